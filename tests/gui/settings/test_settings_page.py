"""The Settings page, driven like a person would: real widgets, real files, a real keyring
backend that keeps secrets in memory (`tests/keychain.py`), Qt's offscreen platform."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QLabel, QStyleFactory
from pytestqt.qtbot import QtBot

from app.core.config.preferences import Preferences, load_preferences, save_preferences
from app.core.config.secrets import ACCOUNT, SERVICE
from app.core.errors import MoveCancelledError, MoveFolderError
from app.core.hub import models_folder
from app.core.hub.library import import_model, list_models
from app.core.hub.models_folder import COPY_BLOCK_BYTES
from app.core.hub.packs import MANIFEST_URL_ENV
from app.core.machine.hardware import CpuInfo, GpuInfo, HardwareProfile
from app.core.paths import AppPaths, app_paths
from app.ui.session import Session
from app.ui.settings.settings_page import SettingsPage
from app.ui.style import is_shown_as_error
from app.ui.theme import apply_theme, current_theme_is_dark
from app.ui.translations import LANGUAGE_ENV
from tests.keychain import MemoryKeychain
from tests.localhub import LocalHub
from tests.release import cuda_pack_archive, publish

TOKEN = "hf_GuiTestToken0123456789abcdef"
MakePage = Callable[..., SettingsPage]


@pytest.fixture
def paths() -> AppPaths:
    return app_paths().ensure()


@pytest.fixture(autouse=True)
def no_keychain() -> Iterator[None]:
    """No keychain unless a test asks for one: the developer's real one is never touched."""
    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(before)


@pytest.fixture
def keychain(no_keychain: None) -> MemoryKeychain:
    backend = MemoryKeychain()
    keyring.set_keyring(backend)
    return backend


@pytest.fixture
def make_page(qtbot: QtBot, paths: AppPaths, qapp: QApplication) -> Iterator[MakePage]:
    pages: list[SettingsPage] = []

    def make(prefs: Preferences | None = None) -> SettingsPage:
        """The page over a new session; `prefs` are saved first, as an earlier run left them."""
        if prefs is not None:
            save_preferences(paths.config, prefs)
        page = SettingsPage(Session(paths))
        qtbot.addWidget(page)
        pages.append(page)
        # The keychain is asked on a task thread; wait for its answer.
        qtbot.waitUntil(lambda: "Checking" not in page.token_status.text(), timeout=10_000)
        return page

    yield make
    for page in pages:
        page.shutdown()
        page.session.shutdown()
    apply_theme(qapp, "system")


def saved(paths: AppPaths) -> Preferences:
    prefs, note = load_preferences(paths.config)
    assert note is None
    return prefs


def all_text(page: SettingsPage) -> str:
    return "\n".join(label.text() for label in page.findChildren(QLabel))


# --- preferences ----------------------------------------------------------------------------------


def test_shows_the_preferences_it_was_given(make_page: MakePage, paths: AppPaths) -> None:
    prefs = Preferences(
        models_dir=str(paths.models.parent / "elsewhere"),
        default_context=16384,
        threads=3,
        gpu_layers=20,
        theme="light",
    )
    page = make_page(prefs)
    written = (paths.config / "preferences.json").stat().st_mtime_ns
    assert page.models_dir_label.text() == str(paths.models.parent / "elsewhere")
    assert page.context_spin.value() == 16384
    assert page.threads_spin.value() == 3
    assert page.gpu_combo.currentData() == "layers"
    assert page.gpu_layers_spin.value() == 20 and page.gpu_layers_spin.isEnabled()
    assert page.theme_combo.currentData() == "light"
    assert (paths.config / "preferences.json").stat().st_mtime_ns == written  # not saved again


def test_defaults_show_the_default_folder_and_automatic_choices(
    make_page: MakePage, paths: AppPaths
) -> None:
    page = make_page()
    assert page.models_dir_label.text() == str(paths.models)
    assert page.threads_spin.text() == "Automatic"
    assert page.gpu_combo.currentData() == "auto"
    assert not page.gpu_layers_spin.isEnabled()
    assert page.theme_combo.currentText() == "System"


def test_every_change_is_saved_and_announced(
    make_page: MakePage, paths: AppPaths, qtbot: QtBot
) -> None:
    page = make_page()
    with qtbot.waitSignal(page.session.preferences_changed) as signal:
        page.context_spin.setValue(8192)
    assert signal.args[0].default_context == 8192
    assert saved(paths).default_context == 8192

    most = page.threads_spin.maximum()
    assert most == (os.cpu_count() or 1)
    with qtbot.waitSignal(page.session.preferences_changed):
        page.threads_spin.setValue(most)
    assert saved(paths).threads == most
    with qtbot.waitSignal(page.session.preferences_changed):
        page.threads_spin.setValue(0)
    assert page.threads_spin.text() == "Automatic"
    assert saved(paths).threads is None

    for key, layers in (("all", -1), ("cpu", 0), ("auto", None)):
        with qtbot.waitSignal(page.session.preferences_changed) as signal:
            page.gpu_combo.setCurrentIndex(page.gpu_combo.findData(key))
        assert signal.args[0].gpu_layers == layers
        assert saved(paths).gpu_layers == layers
        assert not page.gpu_layers_spin.isEnabled()
    page.gpu_combo.setCurrentIndex(page.gpu_combo.findData("layers"))
    assert page.gpu_layers_spin.isEnabled()
    assert saved(paths).gpu_layers == page.gpu_layers_spin.value()
    with qtbot.waitSignal(page.session.preferences_changed):
        page.gpu_layers_spin.setValue(12)
    assert saved(paths).gpu_layers == 12
    assert page.session.preferences == saved(paths)


def test_a_save_that_fails_is_said_and_the_change_still_applies(
    make_page: MakePage, paths: AppPaths, qtbot: QtBot
) -> None:
    page = make_page()
    (paths.config / "preferences.json").mkdir()  # the file can't be written
    with qtbot.waitSignal(page.session.preferences_changed):
        page.context_spin.setValue(8192)
    assert "Couldn't save the settings" in page.message.text()
    assert not page.message.isHidden()
    assert page.session.preferences.default_context == 8192  # until Quantdesk closes
    (paths.config / "preferences.json").rmdir()
    page.context_spin.setValue(16384)  # the next save works, and the note goes
    assert page.message.isHidden()
    assert saved(paths).default_context == 16384


def test_typing_a_context_length_saves_the_number_not_each_digit(
    make_page: MakePage, paths: AppPaths, qtbot: QtBot
) -> None:
    page = make_page()
    changes: list[Preferences] = []
    page.session.preferences_changed.connect(changes.append)
    page.context_spin.selectAll()
    qtbot.keyClicks(page.context_spin, "32768")
    assert changes == []
    qtbot.keyClick(page.context_spin, Qt.Key.Key_Return)
    assert [p.default_context for p in changes] == [32768]
    assert saved(paths).default_context == 32768


def test_changes_made_elsewhere_show_at_once_and_are_kept(
    make_page: MakePage, paths: AppPaths
) -> None:
    page = make_page()
    # The wizard finishes and records a hand-corrected VRAM while the page is open, through
    # the session, the one writer of the preferences.
    page.session.update_preferences(
        first_run_done=True, hardware_overrides={"vram_bytes": {"0": 8 << 30}}, threads=2
    )
    assert page.threads_spin.value() == 2  # the page follows the session, no copy of its own
    page.theme_combo.setCurrentIndex(page.theme_combo.findData("dark"))
    prefs = saved(paths)
    assert prefs.theme == "dark"
    assert prefs.first_run_done is True
    assert prefs.vram_override(0) == 8 << 30


def test_theme_applies_at_once_and_system_restores(
    make_page: MakePage, paths: AppPaths, qapp: QApplication
) -> None:
    page = make_page()
    system_style = qapp.style().name()
    system_window = qapp.palette().color(QPalette.ColorRole.Window)
    page.theme_combo.setCurrentIndex(page.theme_combo.findData("dark"))
    assert qapp.style().name().lower() == "fusion"
    assert current_theme_is_dark(qapp)
    qapp.processEvents()  # widgets learn of the new palette by an event
    assert page.palette().color(QPalette.ColorRole.Window).lightness() < 100
    assert saved(paths).theme == "dark"

    page.theme_combo.setCurrentIndex(page.theme_combo.findData("light"))
    assert not current_theme_is_dark(qapp)
    fusion = QStyleFactory.create("Fusion").standardPalette()
    assert qapp.palette().color(QPalette.ColorRole.Window) == fusion.color(
        QPalette.ColorRole.Window
    )

    page.theme_combo.setCurrentIndex(page.theme_combo.findData("system"))
    assert qapp.style().name() == system_style
    assert qapp.palette().color(QPalette.ColorRole.Window) == system_window
    assert saved(paths).theme == "system"


# --- models folder --------------------------------------------------------------------------------


def make_models(root: Path) -> dict[str, bytes]:
    layout = {
        "owner/repo/model-Q4_K_M.gguf": b"m" * (2 * COPY_BLOCK_BYTES + 5),
        "imported/mine.gguf": b"i" * 1000,
        ".partial/key.part": b"p" * 300,
        ".partial/key.json": b"{}",
    }
    for relative, data in layout.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(data)
    return layout


def files_under(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_moving_the_models_folder_moves_the_files_and_saves(
    make_page: MakePage, paths: AppPaths, qtbot: QtBot, tmp_path: Path
) -> None:
    contents = make_models(paths.models)
    page = make_page()
    target = tmp_path / "bigger-disk" / "models"
    changes: list[Preferences] = []
    page.session.preferences_changed.connect(changes.append)
    with qtbot.waitSignal(page.models_dir_changed, timeout=20_000) as signal:
        page.move_models_folder_to(target)
        assert not page.move_button.isEnabled()
        assert page.move_progress.isVisibleTo(page)
        assert page.cancel_move_button.isVisibleTo(page)
    assert signal.args == [target.resolve()]
    assert files_under(target) == contents
    assert files_under(paths.models) == {}
    assert saved(paths).models_dir == str(target.resolve())
    assert [p.models_dir for p in changes] == [str(target.resolve())]
    assert page.models_dir == target.resolve()
    assert page.models_dir_label.text() == str(target.resolve())
    assert page.move_button.isEnabled()
    assert not page.move_progress.isVisibleTo(page)
    assert not page.cancel_move_button.isVisibleTo(page)
    assert "Moved" in page.move_message.text()

    # Moving back to the default folder records "the default" again.
    with qtbot.waitSignal(page.models_dir_changed, timeout=20_000):
        page.move_models_folder_to(paths.models)
    assert saved(paths).models_dir is None
    assert files_under(paths.models) == contents


def test_a_refused_move_says_why_and_changes_nothing(
    make_page: MakePage, paths: AppPaths, qtbot: QtBot
) -> None:
    contents = make_models(paths.models)
    page = make_page()
    with qtbot.waitSignal(page.move_failed, timeout=10_000) as signal:
        page.move_models_folder_to(paths.models / "inside")
    assert isinstance(signal.args[0], MoveFolderError)
    assert "can't be inside" in page.move_message.text()
    assert page.move_message.isVisibleTo(page)
    assert page.move_button.isEnabled()
    assert files_under(paths.models) == contents
    assert not (paths.config / "preferences.json").exists()
    assert page.models_dir == paths.models


def test_cancelling_a_move_across_disks_loses_nothing(
    make_page: MakePage,
    paths: AppPaths,
    qtbot: QtBot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(models_folder, "same_filesystem", lambda _source, _target: False)
    contents = make_models(paths.models)
    (paths.models / "big.gguf").write_bytes(b"b" * (16 * COPY_BLOCK_BYTES))
    contents["big.gguf"] = b"b" * (16 * COPY_BLOCK_BYTES)
    page = make_page()
    target = tmp_path / "other-disk"
    with qtbot.waitSignal(page.move_failed, timeout=20_000) as signal:
        page.move_models_folder_to(target)
        qtbot.mouseClick(page.cancel_move_button, Qt.MouseButton.LeftButton)
    error = signal.args[0]
    assert isinstance(error, MoveCancelledError)
    assert "cancelled" in page.move_message.text()
    old, new = files_under(paths.models), files_under(target)
    assert not set(old) & set(new)
    assert {**old, **new} == contents
    assert not [p for p in target.rglob("*.partial") if p.is_file()]
    assert page.models_dir == paths.models  # still the folder in use
    assert not (paths.config / "preferences.json").exists()
    assert page.move_button.isEnabled()


# --- Hugging Face token ---------------------------------------------------------------------------


def test_saving_and_removing_the_token_in_the_keychain(
    make_page: MakePage, keychain: MemoryKeychain, qtbot: QtBot, paths: AppPaths
) -> None:
    page = make_page()
    assert "No token saved" in page.token_status.text()
    assert not page.save_token_button.isEnabled()
    assert not page.remove_token_button.isEnabled()
    assert page.token_edit.echoMode() == page.token_edit.EchoMode.Password

    qtbot.keyClicks(page.token_edit, TOKEN)
    assert page.save_token_button.isEnabled()
    with qtbot.waitSignal(page.token_changed, timeout=10_000) as signal:
        qtbot.mouseClick(page.save_token_button, Qt.MouseButton.LeftButton)
    assert signal.args == [True]
    assert keychain.secrets == {(SERVICE, ACCOUNT): TOKEN}
    assert page.token_status.text() == "Stored in the system keychain."
    assert page.token_edit.text() == ""  # never shown again
    assert page.remove_token_button.isEnabled()
    assert TOKEN not in all_text(page)
    assert all(TOKEN not in p.read_text(errors="replace") for p in paths.config.rglob("*"))

    # A new page (next start) finds it stored.
    assert make_page().token_status.text() == "Stored in the system keychain."

    with qtbot.waitSignal(page.token_changed, timeout=10_000) as signal:
        qtbot.mouseClick(page.remove_token_button, Qt.MouseButton.LeftButton)
    assert signal.args == [False]
    assert keychain.secrets == {}
    assert "No token saved" in page.token_status.text()
    assert not page.remove_token_button.isEnabled()


def test_return_in_the_token_field_saves(
    make_page: MakePage, keychain: MemoryKeychain, qtbot: QtBot
) -> None:
    page = make_page()
    qtbot.keyClicks(page.token_edit, TOKEN)
    with qtbot.waitSignal(page.token_changed, timeout=10_000):
        qtbot.keyClick(page.token_edit, Qt.Key.Key_Return)
    assert keychain.secrets[(SERVICE, ACCOUNT)] == TOKEN


def test_a_locked_keychain_says_so(
    make_page: MakePage, keychain: MemoryKeychain, qtbot: QtBot
) -> None:
    page = make_page()
    keychain.locked = True
    qtbot.keyClicks(page.token_edit, TOKEN)
    with qtbot.waitSignal(page.token_failed, timeout=10_000):
        qtbot.mouseClick(page.save_token_button, Qt.MouseButton.LeftButton)
    assert "refused to store" in page.token_status.text()
    assert TOKEN not in all_text(page)
    assert keychain.secrets == {}


def test_without_a_keychain_the_token_row_explains_the_alternatives(
    make_page: MakePage, qtbot: QtBot
) -> None:
    page = make_page()  # the `no_keychain` fixture: keyring's fail backend
    text = page.token_status.text()
    assert "No system keychain" in text
    assert "HF_TOKEN" in text and "hf auth login" in text
    assert not page.token_edit.isEnabled()
    assert not page.save_token_button.isEnabled()
    assert not page.remove_token_button.isEnabled()


# --- the GPU engine box ----------------------------------------------------------------------------


def _machine(*gpus: GpuInfo) -> HardwareProfile:
    return HardwareProfile(
        os="linux",
        cpu=CpuInfo("x86_64", "Test CPU", 8, ("avx", "avx2")),
        ram_bytes=16 * 2**30,
        ram_available_bytes=12 * 2**30,
        gpus=gpus,
    )


RTX = GpuInfo("NVIDIA GeForce RTX 3070", "cuda", 8 * 2**30, 7 * 2**30)


def test_gpu_engine_box_shows_only_with_an_nvidia_gpu(make_page: MakePage) -> None:
    page = make_page()
    page.show()
    assert not page.gpu_engine.isVisible()  # before detection
    page.set_hardware(_machine(GpuInfo("AMD Radeon RX 6600", "vulkan", 8 * 2**30, 7 * 2**30)))
    assert not page.gpu_engine.isVisible()
    page.set_hardware(_machine(RTX))
    assert page.gpu_engine.isVisible()
    assert page.gpu_engine.status.text() == "NVIDIA CUDA engine: not installed."
    assert page.gpu_engine.download_button.text() == "Download the NVIDIA CUDA engine"


def test_gpu_engine_box_hidden_where_no_pack_is_built(
    make_page: MakePage, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.ui.settings import gpu_engine_section

    monkeypatch.setattr(gpu_engine_section, "platform_tag", lambda: "windows-x86_64")
    page = make_page()
    page.show()
    page.set_hardware(_machine(RTX))
    assert not page.gpu_engine.isVisible()


def test_gpu_engine_downloads_installs_and_removes(
    make_page: MakePage, qtbot: QtBot, local_hub: LocalHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = cuda_pack_archive()
    monkeypatch.setenv(MANIFEST_URL_ENV, publish(local_hub, archive))
    page = make_page()
    page.show()
    page.set_hardware(_machine(RTX))
    box = page.gpu_engine
    with qtbot.waitSignal(box.installed, timeout=30_000) as installed:
        qtbot.mouseClick(box.download_button, Qt.MouseButton.LeftButton)
        assert box.cancel_button.isVisible() and box.progress.isVisible()
    assert (Path(installed.args[0]) / "libggml-cuda.so").is_file()
    assert "NVIDIA CUDA engine installed" in box.status.text()
    assert "used from the next model load" in box.status.text()
    assert box.remove_button.isVisible() and not box.progress.isVisible()
    qtbot.mouseClick(box.remove_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: box.status.text() == "NVIDIA CUDA engine: not installed.")
    assert not Path(installed.args[0]).exists()
    assert box.message.text().startswith("Removed.")
    assert not is_shown_as_error(box.message)  # good news is not shown in red


def test_gpu_engine_failure_is_shown(
    make_page: MakePage, qtbot: QtBot, local_hub: LocalHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MANIFEST_URL_ENV, f"{local_hub.url}/nobody/nothing/resolve/main/x.json")
    page = make_page()
    page.show()
    page.set_hardware(_machine(RTX))
    box = page.gpu_engine
    qtbot.mouseClick(box.download_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: box.message.isVisible(), timeout=30_000)
    assert "has no GPU engine packs" in box.message.text()
    assert is_shown_as_error(box.message)
    assert box.download_button.isVisible() and not box.cancel_button.isVisible()


# --- language -------------------------------------------------------------------------------------


def test_the_language_row_says_when_quantdesk_language_sets_it_for_this_run(
    make_page: MakePage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(LANGUAGE_ENV, "zh_CN")
    page = make_page(Preferences(language="system"))
    page.show()
    assert page.language_combo.currentData() == "system"  # the person's choice, kept
    note = page.language_forced_note
    assert note.isVisible()
    assert note.text() == (
        "Set to 简体中文 by QUANTDESK_LANGUAGE for this run; your choice applies when it is "
        "not set."
    )
    # Changing the choice is still saved (for the runs without the variable).
    page.language_combo.setCurrentIndex(page.language_combo.findData("en"))
    assert note.isVisible()

    # A value Quantdesk has no name for is shown as written.
    monkeypatch.setenv(LANGUAGE_ENV, "fr_FR")
    page = make_page()
    page.show()
    assert "Set to fr_FR by QUANTDESK_LANGUAGE" in page.language_forced_note.text()

    # …within reason: the environment can hold anything, the note stays a short line.
    monkeypatch.setenv(LANGUAGE_ENV, "x" * 100_000 + "\x1b[31m")
    page = make_page()
    page.show()
    assert len(page.language_forced_note.text()) < 400
    assert "\x1b" not in page.language_forced_note.text()

    # Without the variable, the row is the choice alone.
    monkeypatch.delenv(LANGUAGE_ENV)
    page = make_page()
    page.show()
    assert not page.language_forced_note.isVisible()
    assert "QUANTDESK_LANGUAGE" not in all_text(page)


def test_after_a_move_every_model_and_what_names_it_is_found_where_it_went(
    make_page: MakePage, paths: AppPaths, qtbot: QtBot, tmp_path: Path, tiny_model: Path
) -> None:
    # Added by reference from inside the models folder (it moves), and from beside it (it
    # stays); and copied in (it moves with the folder).
    inside = paths.models / "mine" / "inside.gguf"
    beside = paths.models.parent / "beside.gguf"
    for path in (inside, beside):
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(tiny_model, path)
        import_model(paths, path, copy=False)
    copied = import_model(paths, tiny_model, copy=True).path
    assert copied.is_relative_to(paths.models)
    page = make_page(
        Preferences(last_model=str(copied), model_contexts={str(copied): 2048, str(beside): 1024})
    )
    store = page.session.store
    chat = store.create_conversation("Owls")
    store.add_message(chat.id, "user", "Tell me about owls", model_path=str(copied))

    target = (tmp_path / "bigger-disk" / "models").resolve()
    with qtbot.waitSignal(page.models_dir_changed, timeout=30_000):
        page.move_models_folder_to(target)

    moved = copied.relative_to(paths.models)
    models = list_models(replace(paths, models=target))
    assert [m for m in models if m.missing] == []
    assert sorted(m.path for m in models) == sorted(
        [target / "mine" / "inside.gguf", target / moved, beside]
    )
    prefs = saved(paths)
    assert prefs.last_model == str(target / moved)
    assert prefs.model_contexts == {str(target / moved): 2048, str(beside): 1024}
    assert store.conversation(chat.id).model_path == str(target / moved)
    assert [m.model_path for m in store.messages(chat.id)] == [str(target / moved)]
