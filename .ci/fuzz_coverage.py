#!/usr/bin/env python3
"""Counts the fuzz runs' requests per operation of openapi.json, from their HAR reports,
and fails unless every operation got at least one 2xx answer.

    python3 .ci/fuzz_coverage.py openapi.json run1.har [run2.har ...]
"""
import json
import re
import sys
from collections import Counter
from urllib.parse import urlsplit


def operations(document):
    """(method, template, regex) for every operation, literal paths first."""
    out = []
    for template, item in document["paths"].items():
        regex = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")
        for method in item:
            if method in ("get", "head", "put", "post", "delete", "patch"):
                out.append((method.upper(), template, regex))
    return sorted(out, key=lambda op: "{" in op[1])


def main(document_path, hars):
    ops = operations(json.load(open(document_path)))
    cases, successes = Counter(), Counter()
    for har in hars:
        for entry in json.load(open(har))["log"]["entries"]:
            method, path = entry["request"]["method"], urlsplit(entry["request"]["url"]).path
            status = entry["response"]["status"]
            for op_method, template, regex in ops:
                if op_method == method and regex.match(path):
                    cases[(method, template)] += 1
                    successes[(method, template)] += 200 <= status < 300
                    break
    missing = []
    for method, template, _ in ops:
        key = (method, template)
        print(f"{cases[key]:6} requests {successes[key]:6} 2xx  {method} {template}")
        if not successes[key]:
            missing.append(key)
    print(f"{sum(cases.values()):6} requests to the documented operations")
    for method, template in missing:
        print(f"no 2xx answer for {method} {template}", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
