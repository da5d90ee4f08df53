"""schemathesis hooks for .ci/fuzz: what the request schemas cannot say."""

import itertools
import os
import re
import urllib.error
import urllib.request

import schemathesis

PASSWORD_CHANGE = "/api/users/{id}/password"


@schemathesis.hook
def filter_body(context, body):
    """A password change whose `new_password` is its `current_password` gets 422: a rule
    between two fields, which JSON Schema cannot state (openapi.json says it in words).
    The generator is told here, so that such a body is not taken for a valid one."""
    if context.operation is None or context.operation.path != PASSWORD_CHANGE:
        return True
    return not (isinstance(body, dict) and "new_password" in body and body["new_password"] == body.get("current_password"))


# The favorites writes that take If-Match (.ci/fuzz exports FUZZ_BASE, the server's URL).
CONDITIONAL_WRITES = {
    ("POST", "/api/users/{id}/favorites"),
    ("PUT", "/api/users/{id}/favorites"),
    ("DELETE", "/api/users/{id}/favorites/{pokemon_id}"),
}
TAG_LIST = re.compile(r'^[ \t]*(W/)?"[!#-~]*"([ \t]*,[ \t]*(W/)?"[!#-~]*")*[ \t]*$')
IDEMPOTENCY_KEY = re.compile(r"^[!-~]{1,255}$")
FRESH = itertools.count(1)


@schemathesis.hook
def before_call(context, case, **kwargs):
    """What the request schemas cannot say about the favorites writes, fixed just before
    the call: a key the run already used, and a tag the list is not at."""
    if (case.method.upper(), case.operation.path) not in CONDITIONAL_WRITES:
        return
    fresh_idempotency_key(case)
    current_tag(case, kwargs)


def fresh_idempotency_key(case):
    """A generated Idempotency-Key repeats (the parameter's example, short random ones),
    and a key that already answered another request is 422 idempotency_key_reused by
    design, which the fuzzer would take for a valid request refused (and a replay skips
    If-Match, which it would take for an invalid one accepted). A well-formed key is made
    the run's own, just before the call; replays and reuse are tested in
    tests/api/idempotency/. A malformed key is left alone (a 400 for the component)."""
    headers = case.headers or {}
    name = next((n for n in headers if n.lower() == "idempotency-key"), None)
    if name is None or not IDEMPOTENCY_KEY.match(str(headers[name])):
        return
    headers[name] = f"{str(headers[name])[:200]}.{next(FRESH)}"
    case.headers = headers


def current_tag(case, kwargs):
    """A generated entity tag is never the list's current one, so every conditional write
    would be a 412 and none would reach the code past the check (the operations would
    only ever be refused: schemathesis' validation_mismatch). A well-formed tag list is
    replaced, just before the call, by the list's tag as a GET reads it now. The 412
    itself is tested in tests/api/versions.rs. A value that breaks the schema is left
    alone: replacing it would make a negative case valid."""
    headers = case.headers or {}
    name = next((n for n in headers if n.lower() == "if-match"), None)
    if name is None:
        return
    # schemathesis 4.32.5's coverage phase sends some cases it calls positive with an
    # If-Match of `0`, which breaks the parameter's pattern: such a case is made what it
    # claims to be. A negative case keeps its malformed value (a 412 for the component).
    if not TAG_LIST.match(str(headers[name])) and not is_positive(case):
        return
    owner = case.path_parameters["id"]
    auth = next((v for n, v in headers.items() if n.lower() == "authorization"), None)
    auth = auth or kwargs.get("headers", {}).get("Authorization") or f"Bearer {os.environ['FUZZ_TOKEN']}"
    request = urllib.request.Request(
        f"{os.environ['FUZZ_BASE']}/api/users/{owner}/favorites?limit=1",
        headers={"authorization": auth},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            tag = response.headers.get("etag")
    except urllib.error.HTTPError:
        return
    if tag:
        headers[name] = tag
        case.headers = headers


def is_positive(case):
    """Whether schemathesis generated the case as one the schema accepts."""
    generation = getattr(getattr(case, "meta", None), "generation", None)
    mode = getattr(generation, "mode", None)
    return str(getattr(mode, "value", mode)) == "positive"
