"""`TextEnum`: each word is its string, in comparisons, f-strings, JSON and SQLite alike."""

from __future__ import annotations

import json
import sqlite3

from app.core._util.enums import TextEnum


class Colour(TextEnum):
    RED = "red"


def test_a_member_is_its_value_everywhere() -> None:
    assert Colour.RED == "red" and Colour("red") is Colour.RED
    assert str(Colour.RED) == "red"
    assert f"{Colour.RED}|{Colour.RED:>5}" == "red|  red"
    assert json.dumps({"colour": Colour.RED}) == '{"colour": "red"}'
    with sqlite3.connect(":memory:") as db:
        db.execute("CREATE TABLE t (colour TEXT)")
        db.execute("INSERT INTO t VALUES (?)", (Colour.RED,))
        assert db.execute("SELECT colour FROM t WHERE colour = 'red'").fetchone() == ("red",)
