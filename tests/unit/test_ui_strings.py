"""Every UI string can be found by Qt's lupdate: `tr()` only on literals, named `.format` fields.

lupdate reads the source, so `self.tr(variable)` gives it nothing to extract (mark such words
with `QT_TRANSLATE_NOOP` and translate them with `QCoreApplication.translate`), and `%`
formatting hides the argument names a translator needs to reorder a sentence.
"""

from __future__ import annotations

import ast
from pathlib import Path

UI = Path(__file__).resolve().parents[2] / "app" / "ui"


def _is_tr(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "tr"
    )


def _tr_calls(tree: ast.AST) -> list[ast.Call]:
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call) and _is_tr(node)]


def _where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(UI.parent.parent)}:{node.lineno}"


def test_tr_is_called_on_literals_only() -> None:
    found = []
    for path in sorted(UI.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for call in _tr_calls(tree):
            text = call.args[0] if call.args else None
            if not (isinstance(text, ast.Constant) and isinstance(text.value, str)):
                found.append(_where(path, call))
    assert found == []


def test_translated_strings_use_named_format_fields() -> None:
    found = []
    for path in sorted(UI.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and _is_tr(node.left):
                found.append(_where(path, node))
    assert found == []
