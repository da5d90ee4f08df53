#!/usr/bin/env python3
"""The regular expression of every page cursor the component accepts, per list.

A cursor (src/domain/paging.rs) is unpadded base64url of a tag letter (`f` for a
user's favorites, `p` for the catalog) and a positive i64 in plain decimal (no sign,
no leading zero). The decoder refuses padding, lengths that are 1 mod 4, and unused
low bits that are set, so every accepted cursor has exactly one spelling, and the set
of them is a regular language: this script writes it out.

Base64 turns 3 bytes into 4 characters. The tag and the first two digits fill the first
group; every further group holds three digits. A digit byte is 0x30-0x39, so each digit
lands in characters of its own (the two characters of a group's first digit also carry
the high nibble, 3, of the digit after it, or zero bits when the text ends there).

    python3 .ci/cursor_pattern.py           # prints both patterns
    python3 .ci/cursor_pattern.py --check   # openapi.json has them, and they agree with
                                            # a port of the decoder on many samples
"""
import base64
import json
import random
import re
import sys
from pathlib import Path

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
I64_MAX = str(2**63 - 1)  # 19 digits
ANY, NONZERO = range(10), range(1, 10)


def char_class(chars):
    """`[...]` of these base64 characters, runs written as ranges."""
    codes = sorted({ALPHABET.index(c) for c in chars})
    if len(codes) == 1:
        return ALPHABET[codes[0]]
    parts, start = [], 0
    for i in range(1, len(codes) + 1):
        # A run ends at a gap or where the alphabet changes between A-Z, a-z and 0-9.
        if i == len(codes) or codes[i] != codes[i - 1] + 1 or codes[i] in (26, 52, 62):
            run = [ALPHABET[c] for c in codes[start:i]]
            parts.append(run[0] + "-" + run[-1] if len(run) > 2 else "".join(run))
            start = i
    return "[" + "".join(parts) + "]"


def digit_unit(place, digits):
    """The characters that carry one digit, for any of `digits`.

    `place` is where the digit's byte sits in its group of three: "first" (a digit
    follows), "last-alone" (first of its group and the last of the text), "second" or
    "third".
    """
    codes = [0x30 + d for d in digits]
    if place == "second":
        return char_class(ALPHABET[(b & 15) << 2] for b in codes)
    if place == "third":
        return char_class(ALPHABET[b & 63] for b in codes)
    low = 3 if place == "first" else 0
    seconds_by_first = {}
    for b in codes:
        seconds_by_first.setdefault(ALPHABET[b >> 2], []).append(ALPHABET[((b & 3) << 4) | low])
    firsts_by_seconds = {}
    for first, seconds in seconds_by_first.items():
        firsts_by_seconds.setdefault(char_class(seconds), []).append(first)
    options = [char_class(firsts) + seconds for seconds, firsts in firsts_by_seconds.items()]
    return options[0] if len(options) == 1 else "(?:" + "|".join(options) + ")"


def place_of(i, length):
    """Where digit `i` (1-based) of a `length`-digit key sits in its group."""
    if i <= 2:
        return "second" if i == 1 else "third"  # the tag is the first group's first byte
    place = ("first", "second", "third")[(i - 3) % 3]
    return "last-alone" if place == "first" and i == length else place


GROUP = "(?:" + digit_unit("first", ANY) + digit_unit("second", ANY) + digit_unit("third", ANY) + ")"


def any_digits(first, length):
    """Digits `first`..`length` of a `length`-digit key, each any digit."""
    out, i = [], first
    while i <= length and (i <= 2 or (i - 3) % 3 != 0):
        out.append(digit_unit(place_of(i, length), ANY))
        i += 1
    groups = 0
    while i + 2 <= length:
        groups, i = groups + 1, i + 3
    if groups:
        out.append(GROUP + ("{%d}" % groups if groups > 1 else ""))
    while i <= length:
        out.append(digit_unit(place_of(i, length), ANY))
        i += 1
    return "".join(out)


def nineteen_digits_up_to_max(i=1):
    """19-digit keys equal to i64::MAX before digit `i` and not above it from there."""
    if i > 19:
        return ""
    top = int(I64_MAX[i - 1])
    equal = digit_unit(place_of(i, 19), [top]) + nineteen_digits_up_to_max(i + 1)
    below = range(1 if i == 1 else 0, top)
    if not below:
        return equal
    return "(?:" + digit_unit(place_of(i, 19), below) + any_digits(i + 1, 19) + "|" + equal + ")"


def pattern(tag):
    t = ord(tag)
    # The tag's six high bits, then its two low bits with the first digit's high nibble.
    head = ALPHABET[t >> 2] + ALPHABET[((t & 3) << 4) | 3]
    # 1 to 18 digits: the first two, then up to five groups of three and a short tail.
    tail = "(?:" + digit_unit("last-alone", ANY) + "|" + digit_unit("first", ANY) + digit_unit("second", ANY) + ")"
    up_to_18 = (
        digit_unit("second", NONZERO)
        + "(?:" + digit_unit("third", ANY)
        + "(?:" + GROUP + "{0,4}" + tail + "?"
        + "|" + GROUP + "{5}" + digit_unit("last-alone", ANY) + "?))?"
    )
    return "^" + head + "(?:" + up_to_18 + "|" + nineteen_digits_up_to_max() + ")$"


def decoder_accepts(text, tag):
    """Cursor::parse, ported: canonical unpadded base64url of the tag and a positive i64."""
    if len(text) > 27 or len(text) % 4 == 1 or not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        return False
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if encode_bytes(raw) != text:
        return False  # unused low bits set: a second spelling
    try:
        plain = raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    digits = plain[1:]
    return (
        plain[:1] == tag
        and re.fullmatch(r"[1-9][0-9]{0,18}", digits) is not None
        and int(digits) < 2**63
    )


def encode_bytes(raw):
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def samples(tag, rnd):
    """Encodings of near-miss plaintexts, their one-character mutations, and noise."""
    other = "p" if tag == "f" else "f"
    texts = []
    for length in range(0, 22):
        for _ in range(200):
            digits = "".join(rnd.choice("0123456789") for _ in range(length))
            texts.append(rnd.choice([tag, tag, other, "", tag.upper()]) + digits)
    for n in range(1, 20):  # around i64::MAX, digit by digit
        for _ in range(100):
            rest = "".join(rnd.choice("0123456789") for _ in range(19 - n))
            texts.append(tag + I64_MAX[: n - 1] + rnd.choice("0123456789") + rest)
    for key in [1, 9, 10, 99, 10**18, 10**19 - 1, 2**63 - 2, 2**63 - 1, 2**63, 2**64]:
        texts.append(tag + str(key))
    out = [encode_bytes(t.encode()) for t in texts]
    for text in list(out):
        if text:
            i = rnd.randrange(len(text))
            out.append(text[:i] + rnd.choice(ALPHABET) + text[i + 1 :])
    out += ["".join(rnd.choice(ALPHABET) for _ in range(rnd.randrange(30))) for _ in range(10000)]
    return out


def check():
    document = json.loads((Path(__file__).parent.parent / "openapi.json").read_text())
    schemas = document["components"]["schemas"]
    ok = True
    for name, tag in [("FavoritesCursor", "f"), ("PokemonCursor", "p")]:
        expected = pattern(tag)
        if schemas[name]["pattern"] != expected:
            print(f"openapi.json: {name}.pattern is not\n{expected}", file=sys.stderr)
            ok = False
        matcher = re.compile(expected.replace("$", r"\Z"))
        wrong = [s for s in samples(tag, random.Random(15)) if bool(matcher.match(s)) != decoder_accepts(s, tag)]
        if wrong:
            print(f"{name}: the pattern and the decoder disagree on {wrong[:10]}", file=sys.stderr)
            ok = False
    return ok


if __name__ == "__main__":
    if sys.argv[1:] == ["--check"]:
        sys.exit(0 if check() else 1)
    print(pattern("f"))
    print(pattern("p"))
