"""Sizes, durations and shares as people read them: binary units, never split from their number."""

from __future__ import annotations

import re

import pytest

from app.core._util.units import format_bytes, format_percent, format_seconds

NBSP = "\u00a0"
KIB, MIB, GIB = 1 << 10, 1 << 20, 1 << 30


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (KIB, "1.0 KiB"),
        (40_000_000, "38.1 MiB"),
        (98_362_432, "93.8 MiB"),
        # A "16 GB" machine, as Windows, macOS and Linux report it: 16 GiB, never "17.2 GB".
        (16 * GIB, "16.0 GiB"),
        (6.25e9, "5.8 GiB"),
        (-2_500_000, "-2.4 MiB"),
        (3 * 1024**6, "3072.0 PiB"),
    ],
)
def test_format_bytes_uses_binary_units(size: float, text: str) -> None:
    assert format_bytes(size) == text.replace(" ", NBSP)


def test_format_seconds() -> None:
    assert format_seconds(0.42) == f"0.4{NBSP}s"
    assert format_seconds(59.94) == f"59.9{NBSP}s"
    assert format_seconds(75) == f"1{NBSP}min{NBSP}15{NBSP}s"
    assert format_seconds(3600) == f"60{NBSP}min{NBSP}0{NBSP}s"


def test_format_percent() -> None:
    assert format_percent(97.86) == f"97.9{NBSP}%"
    assert format_percent(97.86, decimals=2) == f"97.86{NBSP}%"


# A digit, then a plain space (or any breaking space), then a letter or %: a line could end there.
SPLIT = re.compile(r"\d[ \t\n\u2000-\u200b]+[A-Za-z%]")


@pytest.mark.parametrize(
    "text",
    [
        *(format_bytes(size) for size in (0, 5, 1023, 1024, 10**6, 7.9e9, 3 * GIB, 2**50, 10**20)),
        *(format_seconds(seconds) for seconds in (0, 0.4, 59.9, 61, 3599, 7200)),
        *(format_percent(value) for value in (0, 9.26, 99.98, 100)),
    ],
)
def test_no_formatted_number_can_be_split_from_its_unit(text: str) -> None:
    assert not SPLIT.search(text), repr(text)
    assert NBSP in text
