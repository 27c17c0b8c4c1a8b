"""`TextEnum`: the base of the words Quantdesk stores, prints and compares.

Each enum member *is* its string (`Fit.GPU == "gpu"`), so JSON, SQLite and `--json` output keep
the same values they had as plain strings, while the code names every word once. `str()` and
f-strings give the value on every supported Python: 3.12 changed `format()` of mixed-in enums to
print `Fit.GPU`, and Python 3.10 has no `StrEnum`.
"""

from __future__ import annotations

from enum import Enum


class TextEnum(str, Enum):
    """A `str` enum whose text is its value."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)
