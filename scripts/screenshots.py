"""Render every page of Quantdesk offscreen to PNG, for docs/ and the README.

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/screenshots.py [--only PAGE ...] [--sets SET ...]

writes `docs/screens/<lang>-<theme>-<W>x<H>/<page>.png` for six sets (English light and dark,
Simplified Chinese light; each at 1366×768 and 1024×640). Each set is rendered by a fresh child
process (`--set NAME`, internal) with its own empty QUANTDESK_HOME, so theme, language and
palette start clean, as on a person's first start:

- the theme is the app's own preference, written into the fresh home before the app starts;
- the language is the saved preference (English or zh_CN), as Settings saves it;
- the screen is an offscreen screen of the set's size, so dialogs centre and fit as they would;
- the Hub is the local stand-in (tests/localhub.py) with the curated repos' file lists and the
  real tiny model (tests/models.py); the machine is a faked 16 GiB, 8-core PC with no GPU (the
  honest picture of a machine like the test machine), and one extra picture shows the wizard's
  machine page on a faked NVIDIA PC.

The replies are real: streamed by llama.cpp from the tiny models (the reasoning one from the
"chatml-think" variant). Widgets are found through the pages' public attributes; when the UI
changed under the script, it stops with a message naming what it could not find.

Chinese pictures need a font with Chinese glyphs (Debian: `fonts-noto-cjk`); without one the
script says so and the Chinese text shows as boxes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SCREENS = ROOT / "docs" / "screens"

# Every picture of a set, in the order they are taken.
WIZARD_PAGES = (
    "wizard-welcome",
    "wizard-machine",
    "wizard-model",
    "wizard-file",
    "wizard-download",
    "wizard-ready",
)
PAGES = (
    *WIZARD_PAGES,
    "chat-code",
    "why-slow",
    "chat-reasoning",
    "models",
    "discover",
    "downloads",
    "settings",
    "wizard-machine-nvidia",
)

# The Hub repos the pictures use. The tiny model is served under its real repo name; the
# curated repos are the seed repos' file lists (headers only: they can't be downloaded whole).
TINY_REPO = "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF"
TINY_FILE = "smollm2-135m-instruct-q4_1.gguf"
SECOND_REPO = "bartowski/SmolLM2-135M-Instruct-GGUF"  # the same bytes, for a second download
SECOND_QUANT = "Q4_1"
SECOND_FILE = "SmolLM2-135M-Instruct-Q4_1.gguf"
CURATED_FILE_REPO = "bartowski/nvidia_Llama-3.1-Nemotron-Nano-4B-v1.1-GGUF"
DISCOVER_REPO = "bartowski/nvidia_AceReason-Nemotron-1.1-7B-GGUF"
# The think variant sits in the library under a name that says what it is.
THINK_FOLDER = ("QuantdeskTests", "SmolLM2-135M-Think-GGUF")

CODE_QUESTION = "Write a Python function that reverses a string."
FOLLOW_UP = "And one that counts the vowels?"
REASONING_QUESTION = "Why is the sky blue?"

# Seconds to wait for each kind of thing on a loaded 2-core machine.
QUICK = 30
SLOW = 900


@dataclass(frozen=True)
class ShotSet:
    language: str  # "en" or "zh_CN"
    theme: str  # "light" or "dark"
    width: int
    height: int

    @property
    def name(self) -> str:
        return f"{self.language}-{self.theme}-{self.width}x{self.height}"

    @classmethod
    def parse(cls, name: str) -> ShotSet:
        language, theme, size = name.rsplit("-", 2)
        width, height = (int(n) for n in size.split("x"))
        return cls(language, theme, width, height)


SETS = tuple(
    ShotSet(language, theme, width, height)
    for language, theme in (("en", "light"), ("en", "dark"), ("zh_CN", "light"))
    for width, height in ((1366, 768), (1024, 640))
)


class ShotError(Exception):
    """The UI isn't what the script expects (a widget missing, a wait that never ended)."""


# --- the parent: one child process per set ------------------------------------------------------


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--only", nargs="+", metavar="PAGE", choices=PAGES, help="these pages")
    parser.add_argument(
        "--sets", nargs="+", metavar="SET", choices=[s.name for s in SETS], help="these sets"
    )
    parser.add_argument(
        "--jobs", type=int, default=1, metavar="N", help="render N sets at once (default 1)"
    )
    parser.add_argument("--set", help=argparse.SUPPRESS)  # internal: render one set, here
    args = parser.parse_args(argv)
    only = tuple(args.only or PAGES)
    if args.set:
        return render_set(ShotSet.parse(args.set), only)
    chosen = [s for s in SETS if not args.sets or s.name in args.sets]
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        codes = dict(zip(chosen, pool.map(lambda s: timed_child(s, only), chosen), strict=True))
    failed = [shot_set.name for shot_set, code in codes.items() if code != 0]
    if failed:
        print(f"screenshots: failed sets: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def timed_child(shot_set: ShotSet, only: tuple[str, ...]) -> int:
    started = time.monotonic()
    print(f"== {shot_set.name}", flush=True)
    code = run_child(shot_set, only)
    outcome = "done" if code == 0 else "FAILED"
    print(f"== {shot_set.name}: {outcome} in {time.monotonic() - started:.0f} s", flush=True)
    return code


def run_child(shot_set: ShotSet, only: tuple[str, ...]) -> int:
    """Render `shot_set` in a fresh process with a fresh home; its exit code."""
    home = Path(tempfile.mkdtemp(prefix=f"quantdesk-shots-{shot_set.name}-"))
    screen = home / "screen.json"
    screen.write_text(
        json.dumps(
            {
                "screens": [
                    {
                        "name": "screenshot",
                        "x": 0,
                        "y": 0,
                        "width": shot_set.width,
                        "height": shot_set.height,
                        "logicalDpi": 96,
                        "logicalBaseDpi": 96,
                        "dpr": 1,
                    }
                ]
            }
        )
    )
    env = dict(os.environ)
    for name in ("HF_TOKEN", "HF_HUB_OFFLINE", "HF_ENDPOINT", "QUANTDESK_LANGUAGE"):
        env.pop(name, None)
    env.update(
        QT_QPA_PLATFORM=f"offscreen:configfile={screen}",
        QUANTDESK_HOME=str(home / "quantdesk"),
        HF_HOME=str(home / "hf"),
        HF_TOKEN_PATH=str(home / "no-hf-token"),  # never the developer's saved token
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",  # nor their keychain
        PYTHONPATH=os.pathsep.join(filter(None, (str(ROOT), env.get("PYTHONPATH")))),
    )
    command = [sys.executable, str(Path(__file__).resolve()), "--set", shot_set.name]
    command += ["--only", *only]
    try:
        return subprocess.run(command, env=env, cwd=ROOT, check=False).returncode
    finally:
        shutil.rmtree(home, ignore_errors=True)


# --- the child: one set -------------------------------------------------------------------------


def render_set(shot_set: ShotSet, only: tuple[str, ...]) -> int:
    sys.path.insert(0, str(ROOT))
    target = SCREENS / shot_set.name
    target.mkdir(parents=True, exist_ok=True)
    if set(only) == set(PAGES):  # a whole set: nothing stale stays beside the new pictures
        for old in target.glob("*.png"):
            old.unlink()
    try:
        Shooter(shot_set, only, target).run()
    except ShotError as error:
        print(f"screenshots: {shot_set.name}: {error}", file=sys.stderr, flush=True)
        return 2
    return 0


def no_gpu_machine() -> Any:
    from app.core.machine.hardware import CpuInfo, HardwareProfile

    gib = 2**30
    return HardwareProfile(
        os="linux",
        cpu=CpuInfo("x86_64", "Test CPU 8-Core", 8, ("avx", "avx2", "fma", "f16c")),
        ram_bytes=16 * gib,
        ram_available_bytes=12 * gib,
    )


def nvidia_machine() -> Any:
    from app.core.machine.hardware import CpuInfo, GpuInfo, HardwareProfile

    gib = 2**30
    return HardwareProfile(
        os="linux",
        cpu=CpuInfo("x86_64", "Test CPU 8-Core", 8, ("avx", "avx2", "fma", "f16c")),
        ram_bytes=16 * gib,
        ram_available_bytes=12 * gib,
        gpus=(GpuInfo("NVIDIA GeForce RTX 3070", "cuda", 8 * gib, 7 * gib),),
    )


def attribute(owner: object, path: str) -> Any:
    """`owner.a.b.c`, or a ShotError naming the first missing part."""
    value = owner
    walked = type(owner).__name__
    for part in path.split("."):
        if not hasattr(value, part):
            raise ShotError(
                f"can't find {walked}.{part} (looking for {type(owner).__name__}.{path}): "
                "the UI changed; update scripts/screenshots.py"
            )
        value = getattr(value, part)
        walked += f".{part}"
    return value


class Shooter:
    """Drives one app, as a person would, and saves what the screen shows at each step."""

    def __init__(self, shot_set: ShotSet, only: tuple[str, ...], target: Path) -> None:
        self.set = shot_set
        self.only = only
        self.target = target
        self.saved: list[str] = []

    # --- the run ---------------------------------------------------------------------------------

    def run(self) -> None:
        from tests.localhub import LocalHub, seed_repos
        from tests.models import base_model, variant

        model = base_model()
        self.think_model = variant("chatml-think")
        hub = LocalHub().start()
        # Before anything imports huggingface_hub (it reads HF_ENDPOINT once, at import).
        os.environ["HF_ENDPOINT"] = hub.url
        hub.add_repo(TINY_REPO, {TINY_FILE: model})
        hub.add_repo(SECOND_REPO, {SECOND_FILE: model})
        for repo_id, files in seed_repos().items():
            hub.add_listing_repo(repo_id, files)
        self.hub = hub
        try:
            self._run_app()
        finally:
            hub.stop()

    def _run_app(self) -> None:
        from PySide6.QtWidgets import QApplication

        app = QApplication([sys.argv[0]])
        quiet_offscreen_warnings()
        app.setApplicationName("Quantdesk")
        self.app = app
        self._check_fonts()
        window = self.start_window(no_gpu_machine())
        try:
            self.main_pictures(window)
        finally:
            window.close()
            self.spin(200)
        if self.wanted("wizard-machine-nvidia"):
            self.nvidia_machine_page()
        missing = [page for page in self.only if page not in self.saved]
        if missing:
            raise ShotError(f"these pictures were not taken: {', '.join(missing)}")

    def start_window(self, hardware: Any) -> Any:
        """The app's own start (app/ui/app.py's `run_app`) in the set's theme and language."""
        from app.core.config.preferences import Preferences, save_preferences
        from app.core.paths import app_paths
        from app.ui.main_window import MainWindow
        from app.ui.session import Session
        from app.ui.theme import apply_theme

        paths = app_paths().ensure()
        # The language as a person chooses it (Settings), not QUANTDESK_LANGUAGE: Settings would
        # then say, in the picture, that the variable overrides the choice.
        save_preferences(
            paths.config,
            Preferences().replace(theme=self.set.theme, language=self.set.language),
        )
        session = Session(paths, hardware=hardware)
        self._install_translators(session)
        window = MainWindow(session)
        apply_theme(self.app, session.preferences.theme)
        window.setGeometry(0, 0, self.set.width, self.set.height)
        window.show()
        self.spin(300)
        minimum = window.minimumSizeHint()
        if minimum.width() > self.set.width or minimum.height() > self.set.height:
            print(
                f"note: {self.set.name}: the window needs at least "
                f"{minimum.width()}×{minimum.height()}; the picture shows what fits the screen",
                flush=True,
            )
        return window

    def _install_translators(self, session: Any) -> None:
        try:
            from app.ui.translations import chosen_language, install_translators
        except ImportError:
            if self.set.language != "en":
                print(f"note: {self.set.name}: no app.ui.translations yet; English pictures")
            return
        language = chosen_language(getattr(session.preferences, "language", "system"))
        install_translators(self.app, language)

    def _check_fonts(self) -> None:
        from PySide6.QtGui import QFontDatabase

        if self.set.language.startswith("zh") and not QFontDatabase.families(
            QFontDatabase.WritingSystem.SimplifiedChinese
        ):
            print(
                f"WARNING: {self.set.name}: no font with Chinese glyphs is installed "
                "(Debian: fonts-noto-cjk); Chinese text will show as boxes",
                flush=True,
            )

    def wanted(self, *pages: str) -> bool:
        return any(page in self.only for page in pages)

    def main_pictures(self, window: Any) -> None:
        if self.wanted(*WIZARD_PAGES):
            self.wizard_pictures(window)
        elif self.wanted("chat-code", "why-slow", "chat-reasoning", "models", "downloads"):
            self.download_tiny_model(window)
        if self.wanted("chat-code"):
            self.chat_code(window)
        if self.wanted("why-slow"):
            self.why_slow(window)
        if self.wanted("chat-reasoning"):
            self.chat_reasoning(window)
        if self.wanted("models"):
            self.models(window)
        if self.wanted("discover"):
            self.discover(window)
        if self.wanted("downloads"):
            self.downloads(window)
        if self.wanted("settings"):
            self.show_page(window, "settings_page")
            self.settings_with_a_worker(window)

    def settings_with_a_worker(self, window: Any) -> None:
        """Settings, scrolled to "Other computers" with a real worker (`quantdesk worker` on
        loopback) added and probed."""
        import socket
        import subprocess

        with socket.socket() as free:
            free.bind(("127.0.0.1", 0))
            port = free.getsockname()[1]
        worker = subprocess.Popen(
            [sys.executable, "-m", "app", "worker", "--host", "127.0.0.1", "--port", str(port),
             "--threads", "1"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            page = window.settings_page
            section = attribute(page, "workers")
            self.wait_until(
                lambda: socket.socket().connect_ex(("127.0.0.1", port)) == 0, "the worker", SLOW
            )
            self.type_into(attribute(section, "address_edit"), f"127.0.0.1:{port}")
            attribute(section, "add_clicked")()
            row = attribute(section, "rows")[f"127.0.0.1:{port}"]
            checking = row.status.text()  # until the probe's answer reaches the GUI thread
            self.wait_until(lambda: row.status.text() != checking, "the worker's probe", SLOW)
            bar = attribute(page, "scroll_area").verticalScrollBar()
            bar.setValue(bar.maximum())
            self.spin(500)
            self.save(window, "settings")
            section.remove(f"127.0.0.1:{port}")
        finally:
            worker.kill()
            worker.wait()

    # --- the wizard ------------------------------------------------------------------------------

    def wizard_pictures(self, window: Any) -> None:
        from PySide6.QtWidgets import QWizard

        wizard = attribute(window, "show_wizard")()
        welcome = attribute(wizard, "PAGE_WELCOME")
        self.wait_until(lambda: wizard.currentId() == welcome, "the wizard's welcome page")
        self.settle(wizard)
        self.save(window, "wizard-welcome")

        self.click_next(wizard)
        machine_page = attribute(wizard, "machine_page")
        self.wait_until(
            lambda: wizard.currentId() == wizard.PAGE_MACHINE and machine_page.isComplete(),
            "the machine page to show the detected machine",
        )
        self.settle(wizard)
        self.save(window, "wizard-machine")

        self.click_next(wizard)
        models = attribute(wizard, "model_page.model_list")
        model_rows = attribute(models, "list")
        self.wait_until(lambda: model_rows.count() > 0, "the curated models in the wizard")
        self.settle(wizard, models)
        self.save(window, "wizard-model")

        # The file page of a curated model: the one preselected for this machine, else Nano 4B.
        if models.selected is None:
            self.click_model(models, CURATED_FILE_REPO)
        chooser = attribute(wizard, "file_page.chooser")
        self.click_next(wizard)
        self.wait_until(
            lambda: attribute(chooser, "selected_option") is not None,
            "the wizard's file page to preselect a file",
        )
        self.settle(wizard, models, chooser)
        self.save(window, "wizard-file")

        # The download and ready pages with the tiny model (the curated repos hold no real bytes):
        # back, search for it, pick it, and download it over a slow link.
        self.click(wizard.button(QWizard.WizardButton.BackButton))
        self.wait_until(lambda: wizard.currentId() == wizard.PAGE_MODEL, "the model page again")
        self.search(models, "SmolLM2")
        self.click_model(models, TINY_REPO)
        self.click_next(wizard)
        self.wait_until(
            lambda: (
                chooser.selected_option is not None and TINY_FILE in chooser.selected_option.files
            ),
            f"the file page to preselect {TINY_FILE}",
        )
        self.settle(wizard, models, chooser)
        from tests.localhub import Fault

        self.hub.inject(Fault.SLOW, bytes_per_second=6_000_000, times=None)
        self.click_next(wizard)
        self.wait_until(
            lambda: (
                wizard.currentId() == wizard.PAGE_DOWNLOAD
                and wizard.download_row is not None
                and wizard.download_row.bar.value() >= 150
            ),
            "the download to pass 15 %",
            SLOW,
        )
        self.save(window, "wizard-download")
        self.hub.clear_faults()
        finish = wizard.button(QWizard.WizardButton.FinishButton)
        self.wait_until(
            lambda: wizard.currentId() == wizard.PAGE_READY and finish.isEnabled(),
            "the ready page to say the model is loaded",
            SLOW,
        )
        self.settle(wizard)
        self.save(window, "wizard-ready")
        self.click(finish)
        self.wait_until(lambda: window.wizard is None, "the wizard to close")

    def nvidia_machine_page(self) -> None:
        """The wizard's machine page on a faked NVIDIA PC, in a second fresh home."""
        home = Path(os.environ["QUANTDESK_HOME"]) / "nvidia"
        os.environ["QUANTDESK_HOME"] = str(home)
        window = self.start_window(nvidia_machine())
        try:
            wizard = attribute(window, "show_wizard")()
            self.click_next(wizard)
            self.wait_until(
                lambda: (
                    wizard.currentId() == wizard.PAGE_MACHINE and wizard.machine_page.isComplete()
                ),
                "the machine page to show the NVIDIA machine",
            )
            self.settle(wizard)
            self.save(window, "wizard-machine-nvidia")
        finally:
            window.close()
            self.spin(200)

    # --- the main window's pages -----------------------------------------------------------------

    def download_tiny_model(self, window: Any) -> None:
        """Without the wizard (`--only`): download the tiny model on the Downloads page and
        load it, as a person would there."""
        self.show_page(window, "downloads_panel")
        panel = window.downloads_panel
        self.type_into(attribute(panel, "repo_input"), TINY_REPO)
        self.type_into(attribute(panel, "quant_input"), "Q4_1")
        self.click(attribute(panel, "download_button"))
        self.wait_until(
            lambda: any(getattr(row, "result", None) is not None for row in panel.rows),
            "the tiny model's download to finish",
            SLOW,
        )
        path = next(row.result.paths[0] for row in panel.rows if row.result is not None)
        self.load(window, Path(path))

    def load(self, window: Any, path: Path) -> None:
        caught = Caught(attribute(window, "model_loaded"))
        attribute(window, "load_model")(path)
        self.wait_until(lambda: caught.count > 0, f"{path.name} to load", SLOW)

    def chat_code(self, window: Any) -> None:
        self.show_page(window, "chat")
        chat = window.chat
        self.set_sampling(chat, temperature=0.0, max_tokens=100)
        reply = self.send(window, CODE_QUESTION)
        if "```" not in reply:
            print(f"note: {self.set.name}: the tiny model's reply has no code block", flush=True)
        self.type_into(attribute(chat, "input_box"), FOLLOW_UP)
        self.save(window, "chat-code")

    def why_slow(self, window: Any) -> None:
        """The status bar's "Why is it slow?" after a reply: its figures and the suggestion."""
        self.show_page(window, "chat")
        if not attribute(window.chat, "chat_view").messages():
            self.set_sampling(window.chat, temperature=0.0, max_tokens=40)
            self.send(window, CODE_QUESTION)
        self.click(attribute(window, "why_slow_button"))
        panel = attribute(window, "why_slow_panel")
        self.wait_until(
            lambda: panel.status.text() == attribute(panel, "tr")(
                "Measured for this model and its last reply."
            ),
            "the figures of the last reply",
            SLOW,
        )
        self.spin(300)
        self.save(window, "why-slow")
        panel.close()

    def chat_reasoning(self, window: Any) -> None:
        self.show_page(window, "chat")
        chat = window.chat
        folder = window.models_dir.joinpath(*THINK_FOLDER)
        folder.mkdir(parents=True, exist_ok=True)
        link = folder / self.think_model.name
        if not link.exists():
            link.symlink_to(self.think_model)
        attribute(window, "refresh_models")()
        attribute(chat, "new_conversation")()
        self.load(window, link)
        self.set_sampling(chat, temperature=0.0, max_tokens=64)
        attribute(chat, "settings_panel.reasoning_budget").setValue(32)
        settings_button = attribute(chat, "settings_button")
        if not settings_button.isChecked():
            self.click(settings_button)
        self.send(window, REASONING_QUESTION)
        last = attribute(chat, "chat_view").messages()[-1]
        toggle = attribute(last, "reasoning_toggle")
        if toggle.isVisible() and not toggle.isChecked():
            self.click(toggle)
        self.spin(300)
        self.save(window, "chat-reasoning")
        self.click(settings_button)  # closed again for the other pages

    def models(self, window: Any) -> None:
        self.show_page(window, "models_page")
        page = window.models_page
        attribute(page, "refresh")()
        table = attribute(page, "table")
        self.wait_until(lambda: table.rowCount() > 0, "a model in the Models page")
        self.settle_jobs(page)
        self.click_cell(table, 0, 0)
        self.spin(500)
        self.save(window, "models")

    def discover(self, window: Any) -> None:
        self.show_page(window, "discover_page")
        page = window.discover_page
        models = attribute(page, "model_list")
        self.wait_until(lambda: models.list.count() > 0, "the curated models in Discover")
        if models.selected is None or models.selected.repo_id != DISCOVER_REPO:
            self.click_model(models, DISCOVER_REPO)
        chooser = attribute(page, "chooser")
        self.wait_until(lambda: chooser.selected_option is not None, "Discover to preselect a file")
        self.settle(page, models, chooser)
        self.save(window, "discover")

    def downloads(self, window: Any) -> None:
        from tests.localhub import Fault

        self.show_page(window, "downloads_panel")
        panel = window.downloads_panel
        before = len(attribute(panel, "rows"))
        self.hub.inject(Fault.SLOW, bytes_per_second=2_000_000, times=None)
        self.type_into(attribute(panel, "repo_input"), SECOND_REPO)
        self.type_into(attribute(panel, "quant_input"), SECOND_QUANT)
        self.click(attribute(panel, "download_button"))
        self.wait_until(
            lambda: len(panel.rows) > before and panel.rows[-1].bar.value() >= 100,
            "the second download to pass 10 %",
            SLOW,
        )
        self.save(window, "downloads")
        # It is left running: closing the window stops it, keeping its bytes.

    # --- acting as a person ----------------------------------------------------------------------

    def show_page(self, window: Any, name: str) -> None:
        """Click the page's entry in the sidebar."""
        page = attribute(window, name)
        pages = attribute(window, "pages")
        index = pages.indexOf(page)
        if index < 0:
            raise ShotError(f"window.{name} is not one of the window's pages")
        sidebar = attribute(window, "sidebar")
        item = sidebar.item(index)
        self.click(sidebar.viewport(), sidebar.visualItemRect(item).center())
        self.wait_until(lambda: pages.currentWidget() is page, f"the {name} to show")
        self.spin(200)

    def click(self, widget: Any, position: Any = None) -> None:
        from PySide6.QtCore import QPoint, Qt
        from PySide6.QtTest import QTest

        if not widget.isEnabled():
            raise ShotError(f"{type(widget).__name__} {widget_name(widget)!r} is disabled")
        QTest.mouseClick(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         position if position is not None else QPoint())  # fmt: skip
        self.spin(100)

    def click_next(self, wizard: Any) -> None:
        from PySide6.QtWidgets import QWizard

        button = wizard.button(QWizard.WizardButton.NextButton)
        self.wait_until(button.isEnabled, f"Next to be enabled on page {wizard.currentId()}")
        self.click(button)

    def click_model(self, models: Any, repo_id: str) -> None:
        rows = attribute(models, "list")
        for row in range(rows.count()):
            item = rows.item(row)
            model = item.data(0x0100)  # Qt.UserRole: the CatalogModel
            if getattr(model, "repo_id", None) == repo_id:
                rows.scrollToItem(item)
                self.click(rows.viewport(), rows.visualItemRect(item).center())
                self.wait_until(
                    lambda: models.selected is not None and models.selected.repo_id == repo_id,
                    f"{repo_id} to be selected",
                )
                return
        raise ShotError(f"{repo_id} is not in the model list")

    def click_cell(self, table: Any, row: int, column: int) -> None:
        rect = table.visualRect(table.model().index(row, column))
        self.click(table.viewport(), rect.center())

    def search(self, models: Any, text: str) -> None:
        box = attribute(models, "search_box")
        box.selectAll()
        self.type_into(box, text)
        caught = Caught(attribute(models, "search_finished"))
        self.click(attribute(models, "search_button"))
        self.wait_until(lambda: caught.count > 0, f"the search for {text!r}")

    def type_into(self, widget: Any, text: str) -> None:
        from PySide6.QtTest import QTest

        widget.setFocus()
        if hasattr(widget, "clear"):
            widget.clear()
        QTest.keyClicks(widget, text)
        self.spin(50)

    def set_sampling(self, chat: Any, **values: float) -> None:
        fields = attribute(chat, "settings_panel.fields")
        for key, value in values.items():
            if key not in fields:
                raise ShotError(f"the chat settings have no field {key!r} (have {list(fields)})")
            fields[key].setValue(value)

    def send(self, window: Any, text: str) -> str:
        """Type `text`, click Send, wait for the whole streamed reply; the reply's text."""
        chat = window.chat
        self.type_into(attribute(chat, "input_box"), text)
        caught = Caught(attribute(window, "reply_finished"))
        send_button = attribute(chat, "send_button")
        self.wait_until(send_button.isEnabled, "Send to be enabled")
        self.click(send_button)
        self.wait_until(lambda: caught.count > 0, f"the reply to {text!r}", SLOW)
        self.spin(300)
        return str(attribute(chat, "chat_view").messages()[-1].content)

    # --- waiting and saving ----------------------------------------------------------------------

    def spin(self, ms: int) -> None:
        from PySide6.QtCore import QEventLoop, QTimer

        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def wait_until(self, done: Callable[[], object], what: str, seconds: float = QUICK) -> None:
        deadline = time.monotonic() + seconds
        while not done():
            if time.monotonic() > deadline:
                raise ShotError(f"waited {seconds:.0f} s for {what}; it never happened")
            self.spin(50)

    def settle_jobs(self, *owners: Any) -> None:
        """Wait for the worker jobs the given widgets run (facts, fits, disk space) to end."""

        def busy() -> bool:
            return any(len(jobs) for jobs in _jobs_of(owners))

        self.wait_until(lambda: not busy(), "the page's background work to end")

    def settle(self, *owners: Any) -> None:
        self.settle_jobs(*owners)
        self.spin(400)

    def save(self, window: Any, page: str) -> None:
        if page not in self.only:
            return
        if window.width() > self.set.width or window.height() > self.set.height:
            print(
                f"note: {self.set.name}/{page}: the window grew to "
                f"{window.width()}×{window.height()}, past the screen; the picture is cut",
                flush=True,
            )
        image = screen_picture(window, self.set.width, self.set.height)
        path = self.target / f"{page}.png"
        if not image.save(str(path), "PNG"):  # type: ignore[call-overload]
            raise ShotError(f"couldn't write {path}")
        self.saved.append(page)
        print(path.relative_to(ROOT), flush=True)


def quiet_offscreen_warnings() -> None:
    """The offscreen platform says, for every dialog, what it can't do (raise, size hints):
    noise here, not the app's."""
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    def handler(kind: QtMsgType, _context: object, message: str) -> None:
        if message.startswith("This plugin does not support"):
            return
        print(f"qt {kind.name}: {message}", file=sys.stderr, flush=True)

    qInstallMessageHandler(handler)


def _jobs_of(owners: Iterable[Any]) -> list[Any]:
    """The `Jobs` lists of `owners` (public `jobs` or private `_jobs`: only counted, never used)."""
    found = []
    for owner in owners:
        for name in ("jobs", "_jobs"):
            jobs = getattr(owner, name, None)
            if jobs is not None and hasattr(jobs, "__len__"):
                found.append(jobs)
    return found


def widget_name(widget: Any) -> str:
    return widget.objectName() or getattr(widget, "text", lambda: "")() or ""


class Caught:
    """Counts a signal's emissions (on the GUI thread, whichever thread emitted it)."""

    def __init__(self, signal: Any) -> None:
        from PySide6.QtCore import QObject

        class _Receiver(QObject):
            def __init__(self, owner: Caught) -> None:
                super().__init__()
                self.owner = owner

            def hit(self, *_args: object) -> None:
                self.owner.count += 1

        self.count = 0
        self._receiver = _Receiver(self)
        signal.connect(self._receiver.hit)


def screen_picture(window: Any, width: int, height: int) -> Any:
    """What the screen shows: the main window, and any dialog over it, at their places."""
    from PySide6.QtGui import QColor, QImage, QPainter
    from PySide6.QtWidgets import QApplication

    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(window.palette().window().color())
    painter = QPainter(image)
    painter.drawPixmap(window.geometry().topLeft(), window.grab())
    for other in QApplication.topLevelWidgets():
        if other is window or not other.isVisible() or not other.isWindow():
            continue
        if other.windowType().name in ("ToolTip", "Popup"):
            continue
        # No window manager draws a frame offscreen: a thin line marks the dialog's edge.
        frame = other.geometry().adjusted(-1, -1, 0, 0)
        painter.setPen(QColor(128, 128, 128))
        painter.drawRect(frame)
        painter.drawPixmap(other.geometry().topLeft(), other.grab())
    painter.end()
    return image


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
