"""Sizes and durations as people read them."""

from __future__ import annotations

import pytest

from app.core._util.units import format_bytes, format_seconds


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 B"),
        (999, "999 B"),
        (1000, "1.0 KB"),
        (40_000_000, "40.0 MB"),
        (98_362_432, "98.4 MB"),
        (6.25e9, "6.2 GB"),
        (-2_500_000, "-2.5 MB"),
        (3e18, "3000.0 PB"),
    ],
)
def test_format_bytes_uses_decimal_units(size: float, text: str) -> None:
    assert format_bytes(size) == text


def test_format_seconds() -> None:
    assert format_seconds(0.42) == "0.4 s"
    assert format_seconds(59.94) == "59.9 s"
    assert format_seconds(75) == "1 min 15 s"
    assert format_seconds(3600) == "60 min 0 s"
