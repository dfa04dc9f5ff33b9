"""Bounding and neutralising untrusted text before it is stored or logged."""

from __future__ import annotations

import re

#: Characters that can forge or disguise log lines: C0 and C1 controls (CR, LF,
#: ESC, NUL, ...), DEL, the Unicode line/paragraph separators, the bidi
#: embedding/override/isolate controls, and lone surrogates (which no database
#: driver can encode).
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}

#: Marks a value cut at its bound; counted inside the bound.
ELLIPSIS = "\u2026"


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    short = _SHORT_ESCAPES.get(char)
    if short is not None:
        return short
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_controls(value: str) -> str:
    """``value`` with every unsafe character replaced by a visible escape."""
    if _UNSAFE.search(value) is None:
        return value
    return _UNSAFE.sub(_escape, value)


def safe_text(value: object, max_length: int | None) -> str:
    """Coerce to ``str``, escape control characters, and bound the length.

    A value longer than ``max_length`` is cut and ends with an ellipsis,
    so the result is never longer than ``max_length`` characters. Escapes are
    never cut in half.
    """
    text = "" if value is None else str(value)
    if _UNSAFE.search(text) is None:
        if max_length is None or len(text) <= max_length:
            return text
        if max_length <= 0:
            return ""
        return text[: max_length - 1] + ELLIPSIS
    pieces: list[str] = []
    size = 0
    last = 0
    for match in _UNSAFE.finditer(text):
        pieces.append(text[last : match.start()])
        pieces.append(_escape(match))
        last = match.end()
    pieces.append(text[last:])
    if max_length is None:
        return "".join(pieces)
    out: list[str] = []
    total = sum(len(p) for p in pieces)
    if total <= max_length:
        return "".join(pieces)
    if max_length <= 0:
        return ""
    budget = max_length - 1
    for index, piece in enumerate(pieces):
        is_escape = index % 2 == 1
        if size + len(piece) <= budget:
            out.append(piece)
            size += len(piece)
            continue
        if not is_escape:
            out.append(piece[: budget - size])
        break
    return "".join(out) + ELLIPSIS
