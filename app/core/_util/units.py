"""One way to write sizes, durations and shares for people.

Sizes use binary units, written as they are counted: 1 KiB = 1,024 bytes, 1 MiB = 1,024 KiB,
1 GiB = 1,024 MiB. Memory is sold and reported in binary units (a "16 GB" laptop has 16 GiB;
Windows and macOS write it "16 GB", Linux "16 GiB"), and a model file is only useful compared
with that memory, so files, RAM, GPU memory and estimates all use the one unit. The labels are
the unambiguous GiB/MiB: Hugging Face lists files in decimal GB, so its "4.92 GB" file is shown
here as 4.6 GiB, and the different label says why the number differs. (README, "Using it".)

A number and its unit are joined by a no-break space (U+00A0), never a plain one, so a line never
ends between "3.6" and "GiB".
"""

from __future__ import annotations

# Between a number and its unit: a line may not break there.
NBSP = "\u00a0"

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")
_STEP = 1024


def format_bytes(size: int | float) -> str:
    """`98362432` -> `"93.8 MiB"` (no-break space); one decimal from KiB up, none for bytes."""
    value = float(size)
    sign = "-" if value < 0 else ""
    value = abs(value)
    for unit in _UNITS:
        if value < _STEP or unit == _UNITS[-1]:
            if unit == "B":
                return f"{sign}{int(value)}{NBSP}B"
            return f"{sign}{value:.1f}{NBSP}{unit}"
        value /= _STEP
    raise AssertionError("unreachable")


def format_seconds(seconds: float) -> str:
    """`0.4` -> `"0.4 s"`, `75` -> `"1 min 15 s"` (no-break spaces)."""
    if seconds < 60:
        return f"{seconds:.1f}{NBSP}s"
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes}{NBSP}min{NBSP}{rest}{NBSP}s"


def format_percent(value: float, *, decimals: int = 1) -> str:
    """`97.86` -> `"97.9 %"` (no-break space; `decimals` digits after the point)."""
    return f"{value:.{decimals}f}{NBSP}%"
