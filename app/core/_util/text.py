"""Text from untrusted sources (model files, Hub listings) made safe to show or log.

A GGUF file or a server can put anything in a name: megabytes of text, newlines, terminal escape
sequences (ESC, BEL), right-to-left overrides that make "exe.gguf" read as "fugg.exe". Every such
string goes through `printable` before it reaches a message, a label or the log: one line, at most
`NAME_LIMIT` characters, control characters written out as escapes.
"""

from __future__ import annotations

# A name shown to a person is at most one line.
NAME_LIMIT = 200
ELLIPSIS = "…"

# Characters that reorder the text around them (Unicode bidi controls): refused in file names,
# escaped when shown, so a name reads as the bytes it is.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def is_control(char: str) -> bool:
    """C0 and C1 control characters, DEL, and bidi controls."""
    code = ord(char)
    return code < 32 or 0x7F <= code < 0xA0 or char in BIDI_CONTROLS


def printable(text: str, limit: int = NAME_LIMIT) -> str:
    """`text` as one line of at most `limit` characters: controls escaped (ESC -> "\\x1b",
    newline -> "\\n", U+202E -> "\\u202e"), the rest cut with an ellipsis."""
    # Look only at what can be shown: a 30 MB string costs no more than a short one.
    pieces: list[str] = []
    length = 0
    for char in text[: limit + 1]:
        piece = _escape(char) if is_control(char) else char
        pieces.append(piece)
        length += len(piece)
        if length > limit:
            return "".join(pieces)[: limit - len(ELLIPSIS)] + ELLIPSIS
    return "".join(pieces)


def _escape(char: str) -> str:
    code = ord(char)
    if char == "\n":
        return "\\n"
    if char == "\t":
        return "\\t"
    if char == "\r":
        return "\\r"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
