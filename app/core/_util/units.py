"""One way to write sizes and durations for people.

Sizes use decimal units (1 MB = 1,000,000 bytes), as file managers and Hugging Face do; memory
sizes that the OS reports in binary units are converted here too, so every number a person sees
follows the same convention.
"""

from __future__ import annotations

_UNITS = ("B", "KB", "MB", "GB", "TB", "PB")


def format_bytes(size: int | float) -> str:
    """`98362432` -> `"98.4 MB"`; one decimal from KB up, none for bytes."""
    value = float(size)
    sign = "-" if value < 0 else ""
    value = abs(value)
    for unit in _UNITS:
        if value < 1000 or unit == _UNITS[-1]:
            if unit == "B":
                return f"{sign}{int(value)} B"
            return f"{sign}{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def format_seconds(seconds: float) -> str:
    """`0.4` -> `"0.4 s"`, `75` -> `"1 min 15 s"`."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes} min {rest} s"
