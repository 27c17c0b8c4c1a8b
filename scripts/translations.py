#!/usr/bin/env python3
"""Keep the translations in step with the code.

    python scripts/translations.py           re-extract every .ts from app/, then compile the .qm
    python scripts/translations.py --check   say what is out of date or untranslated (exit 1)

Re-extracting runs Qt's `lupdate` over every Python file under app/ (strings in `self.tr(...)`,
`QCoreApplication.translate(...)` and `QT_TRANSLATE_NOOP(...)` markers), keeping the translations
already made and dropping strings the code no longer has. The .ts files record no line numbers,
so moving code doesn't change them. Compiling runs `lrelease`; the .qm files are committed so the
app and its bundle need no Qt tools. tests/gui/test_translations.py runs the check.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "app"
TRANSLATIONS = ROOT / "app" / "ui" / "translations"
LANGUAGES = ("zh_CN",)
LUPDATE_OPTIONS = ("-locations", "none", "-no-obsolete", "-sort-messages", "-silent")
# What a translation must carry over from its source: Qt's %1..%99 and %n, Python's {name}.
PLACEHOLDER = re.compile(r"%(?:\d{1,2}|n)|\{[a-z_][a-z0-9_]*(?:[:!][^}]*)?\}")


def ts_file(language: str) -> Path:
    return TRANSLATIONS / f"quantdesk_{language}.ts"


def qm_file(language: str) -> Path:
    return TRANSLATIONS / f"quantdesk_{language}.qm"


def qt_tool(name: str) -> str:
    """Path of one of Qt's tools as PySide6 ships it (`pyside6-lupdate` wraps the same file)."""
    import PySide6

    suffix = ".exe" if sys.platform == "win32" else ""
    shipped = Path(PySide6.__file__).resolve().parent / f"{name}{suffix}"
    if shipped.is_file():
        return str(shipped)
    found = shutil.which(f"pyside6-{name}") or shutil.which(name)
    if found is None:
        raise SystemExit(f"Qt's {name} was not found: install PySide6 in this environment")
    return found


def source_files() -> list[str]:
    """Every Python file under app/, relative to the repository root, in a stable order."""
    return sorted(path.relative_to(ROOT).as_posix() for path in SOURCES.rglob("*.py"))


def extract(ts: Path) -> None:
    """Bring `ts` up to date with the code (made if missing), keeping existing translations."""
    ts.parent.mkdir(parents=True, exist_ok=True)
    _run([qt_tool("lupdate"), *LUPDATE_OPTIONS, *source_files(), "-ts", str(ts)])


def compile_qm(ts: Path, qm: Path) -> None:
    _run([qt_tool("lrelease"), "-silent", str(ts), "-qm", str(qm)])


def _run(command: list[str]) -> None:
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{Path(command[0]).name} failed:\n{result.stdout}{result.stderr}")


@dataclass(frozen=True)
class Entry:
    """One string of a .ts file."""

    context: str
    source: str
    translations: tuple[str, ...]  # one, or one per plural form
    kind: str  # the translation's type attribute: "" when finished, "unfinished", "vanished"...


def read_ts(ts: Path) -> list[Entry]:
    entries = []
    for context in ET.parse(ts).getroot().iter("context"):
        name = context.findtext("name", "")
        for message in context.iter("message"):
            translation = message.find("translation")
            if translation is None:
                entries.append(Entry(name, message.findtext("source", ""), (), "missing"))
                continue
            forms = [form.text or "" for form in translation.iter("numerusform")]
            texts = tuple(forms) if message.get("numerus") == "yes" else (translation.text or "",)
            entries.append(
                Entry(name, message.findtext("source", ""), texts, translation.get("type", ""))
            )
    return entries


def problems(language: str) -> list[str]:
    """Everything wrong with one language's files, in sentences; empty when all is well."""
    ts, qm = ts_file(language), qm_file(language)
    if not ts.is_file():
        return [f"{ts.relative_to(ROOT)} is missing: run scripts/translations.py"]
    found: list[str] = []
    with tempfile.TemporaryDirectory() as scratch:
        fresh = Path(scratch) / ts.name
        shutil.copyfile(ts, fresh)
        extract(fresh)
        committed = {(e.context, e.source) for e in read_ts(ts)}
        current = {(e.context, e.source) for e in read_ts(fresh)}
        for context, source in sorted(current - committed):
            found.append(f"not in {ts.name} (re-extract): {context}: {source!r}")
        for context, source in sorted(committed - current):
            found.append(
                f"in {ts.name} but no longer in the code (re-extract): {context}: {source!r}"
            )
        if not found and fresh.read_bytes() != ts.read_bytes():
            found.append(f"{ts.name} differs from a fresh extraction: run scripts/translations.py")
        for entry in read_ts(ts):
            found.extend(_entry_problems(entry))
        compiled = Path(scratch) / qm.name
        compile_qm(ts, compiled)
        if not qm.is_file() or qm.read_bytes() != compiled.read_bytes():
            found.append(f"{qm.name} is older than {ts.name}: run scripts/translations.py")
    return found


def _entry_problems(entry: Entry) -> list[str]:
    where = f"{entry.context}: {entry.source!r}"
    if entry.kind or not entry.translations or not all(t.strip() for t in entry.translations):
        return [f"not translated ({entry.kind or 'empty'}): {where}"]
    wanted = sorted(PLACEHOLDER.findall(entry.source))
    return [
        f"placeholders {wanted} not kept in {text!r}: {where}"
        for text in entry.translations
        if sorted(PLACEHOLDER.findall(text)) != wanted
        # %n may be left out where the number is written in words; nothing else may.
        and sorted(p for p in PLACEHOLDER.findall(text) if p != "%n")
        != sorted(p for p in wanted if p != "%n")
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; report problems")
    args = parser.parse_args(argv)
    if args.check:
        found = [problem for language in LANGUAGES for problem in problems(language)]
        print("\n".join(found) or "translations are up to date")
        return 1 if found else 0
    for language in LANGUAGES:
        extract(ts_file(language))
        compile_qm(ts_file(language), qm_file(language))
        unfinished = [e for e in read_ts(ts_file(language)) if _entry_problems(e)]
        print(f"{ts_file(language).relative_to(ROOT)}: {len(unfinished)} to translate")
    return 0


if __name__ == "__main__":
    sys.exit(main())
