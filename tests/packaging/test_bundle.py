"""The installed app, as a user gets it: the Linux bundle built from this checkout by
`installers/build-linux.sh`, unpacked from its .tar.gz and run in a clean environment (`env -i`
with only HOME, PATH=/usr/bin:/bin and a temporary QUANTDESK_HOME), on this CPU and on an
emulated CPU without AVX; then its .deb installed and removed with dpkg.

Set QUANTDESK_BUNDLE=/path/to/quantdesk to smoke-test a bundle built elsewhere (the release
workflow does, on each OS) instead of building one here.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app import __version__

ROOT = Path(__file__).resolve().parents[2]
BUILD_LOG = ROOT / "build" / "build-linux.log"
APP_ID = "app.quantdesk.Quantdesk"
QUESTION = "What is the capital of France?"
LINUX_X86 = sys.platform.startswith("linux") and platform.machine() == "x86_64"

pytestmark = pytest.mark.packaging


@pytest.fixture(scope="session")
def built() -> Path:
    """dist/ after `bash installers/build-linux.sh` (once per test session)."""
    if not LINUX_X86:
        pytest.skip("the Linux bundle is built on x86-64 Linux")
    if os.environ.get("QUANTDESK_BUNDLE"):
        pytest.skip("testing the bundle given in QUANTDESK_BUNDLE")
    BUILD_LOG.parent.mkdir(parents=True, exist_ok=True)  # a clean clone has no build/
    with BUILD_LOG.open("w") as log:
        result = subprocess.run(
            ["bash", "installers/build-linux.sh"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        )
    if result.returncode != 0:
        pytest.fail(f"build-linux.sh failed:\n{BUILD_LOG.read_text()[-4000:]}")
    return ROOT / "dist"


@pytest.fixture(scope="session")
def bundle(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    """The `quantdesk` executable of the unpacked .tar.gz (or of $QUANTDESK_BUNDLE)."""
    given = os.environ.get("QUANTDESK_BUNDLE")
    if given:
        return Path(given)
    dist = request.getfixturevalue("built")
    archive = dist / f"quantdesk-{__version__}-linux-x86_64.tar.gz"
    into = tmp_path_factory.mktemp("unpacked")
    subprocess.run(["tar", "-xzf", str(archive), "-C", str(into)], check=True)  # as a user would
    executable = into / archive.name.removesuffix(".tar.gz") / "quantdesk"
    assert executable.is_file() and os.access(executable, os.X_OK)
    return executable


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """What `env -i HOME=... PATH=/usr/bin:/bin QUANTDESK_HOME=...` gives a program."""
    env = {
        "HOME": str(tmp_path / "home"),
        "PATH": "/usr/bin:/bin",
        "QUANTDESK_HOME": str(tmp_path / "quantdesk"),
    }
    if sys.platform == "win32":  # Windows programs can't start without these
        env.update({key: os.environ[key] for key in ("SYSTEMROOT", "TEMP") if key in os.environ})
    (tmp_path / "home").mkdir(exist_ok=True)
    return {**env, **extra}


def run(
    command: list[str], env: dict[str, str], timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{command} exited {result.returncode}:\n{result.stderr[-3000:]}"
    return result


def greedy_chat(command: list[str], model: Path, env: dict[str, str], timeout: float = 180) -> dict:
    args = ["chat", str(model), "--prompt", QUESTION, "--json", "--max-tokens", "10"]
    reply = json.loads(run([*command, *args, "--temperature", "0"], env, timeout).stdout)
    assert reply["completion_tokens"] > 0 and reply["content"].strip()
    return reply


def engine_of(command: list[str], env: dict[str, str], timeout: float = 120) -> dict:
    return json.loads(run([*command, "hw", "--json"], env, timeout).stdout)["engine"]


def smoke_test(executable: Path, model: Path, tmp_path: Path) -> dict:
    """--version, a chat with --json, hw --json naming the CPU variant, and the GUI offscreen
    staying up and rendering its first window (the first-run wizard) to PNG."""
    env = clean_env(tmp_path)
    assert run([str(executable), "--version"], env).stdout.strip() == f"quantdesk {__version__}"
    reply = greedy_chat([str(executable)], model, env)
    engine = engine_of([str(executable)], env)
    assert engine["cpu_variant"], engine
    if sys.platform != "darwin":  # macOS builds llama.cpp in, with Metal (installers/macos)
        assert engine["cpu_variant"] != "native", "the bundle runs a build for one CPU only"
    assert any(backend["name"] == "CPU" for backend in engine["backends"]), engine
    # A GPU engine the bundle carries (Vulkan in release builds) is skipped where the machine
    # has no GPU driver; the bundle's CPU variants never are.
    assert not [s for s in engine["skipped"] if "ggml-cpu" in Path(s["path"]).name], engine
    png = tmp_path / "first-window.png"
    gui_env = clean_env(
        tmp_path,
        QT_QPA_PLATFORM="offscreen",
        QUANTDESK_SMOKE_SCREENSHOT=str(png),
        QUANTDESK_SMOKE_SECONDS="4",
    )
    shown = run([str(executable)], gui_env, timeout=120)
    assert f"screenshot {png}" in shown.stdout
    assert_picture_of_a_window(png)
    return {"reply": reply, "engine": engine}


def assert_picture_of_a_window(png: Path) -> None:
    from PySide6.QtGui import QImage

    image = QImage(str(png))
    assert (image.width(), image.height()) == (1100, 720)
    colors = {image.pixel(x, y) for x in range(0, 1100, 7) for y in range(0, 720, 7)}
    assert len(colors) > 20  # text, buttons and the wizard, not an empty or black frame


@pytest.fixture
def bundle_copy(bundle: Path, tmp_path: Path) -> Iterator[Path]:
    """A copy of the bundle folder that a test may damage."""
    folder = tmp_path / "bundle"
    shutil.copytree(bundle.parent, folder, symlinks=True)
    yield folder / bundle.name


def backends_folder(executable: Path) -> Path:
    """Where the bundle keeps llama.cpp's backend libraries (installers/quantdesk.spec)."""
    return executable.parent / "_internal" / "ggml-backends"


def test_bundle_smoke(bundle: Path, tiny_model: Path, tmp_path: Path) -> None:
    result = smoke_test(bundle, tiny_model, tmp_path)
    if sys.platform != "darwin":
        (cpu,) = [b for b in result["engine"]["backends"] if b["name"] == "CPU"]
        assert Path(cpu["path"]).parent == backends_folder(bundle)


def test_bundle_runs_its_child_processes(bundle: Path, tiny_model: Path, tmp_path: Path) -> None:
    """The installed program is its own child: the first load of a file is checked in a child
    (`__check-load`, its verdict kept), and chat templates render in a budgeted child
    (`__render-templates`) that stops a runaway template in seconds."""
    from tests import models

    env = clean_env(tmp_path)
    greedy_chat([str(bundle)], tiny_model, env)
    verdicts = json.loads(next((tmp_path / "quantdesk").rglob("load-checks.json")).read_text())
    assert [v["ok"] for v in verdicts.values()] == [True]
    runaway = models.with_template(
        tmp_path,
        "loops",
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    )
    args = ["chat", str(runaway), "--prompt", "Hi", "--max-tokens", "4"]
    result = subprocess.run(
        [str(bundle), *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 4, result.stderr[-2000:]  # BAD_TEMPLATE
    assert "took too long to render" in result.stderr


def test_bundle_serves_the_local_api_and_lends_itself_as_a_worker(
    bundle: Path, tiny_model: Path, tmp_path: Path
) -> None:
    """What the bundle loads by name at run time: uvicorn's protocol and loop (`serve`), and the
    engine's RPC backend (`worker`)."""
    import urllib.request

    env = clean_env(tmp_path)
    server = subprocess.Popen(
        [str(bundle), "serve", str(tiny_model), "--port", "0"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        line = ""
        for line in server.stdout:
            if "listening on" in line:
                break
        url = line.split("listening on", 1)[1].strip().rstrip("/")
        with urllib.request.urlopen(f"{url}/v1/models", timeout=60) as response:
            listed = json.loads(response.read())
        assert tiny_model.name in json.dumps(listed)
    finally:
        server.terminate()
        server.wait(timeout=30)
        if server.stdout is not None:
            server.stdout.close()
    import socket

    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    worker = subprocess.Popen(
        [str(bundle), "worker", "--host", "127.0.0.1", "--port", str(port), "--threads", "1"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert worker.stdout is not None
        banner = [next(worker.stdout) for _ in range(3)]
        assert banner[0].strip() == f"Quantdesk worker at 127.0.0.1:{port}", banner
        assert banner[2].startswith("Offers CPU"), banner  # the RPC backend's view of its devices
    finally:
        worker.kill()
        worker.wait(timeout=30)
        if worker.stdout is not None:
            worker.stdout.close()


@pytest.mark.skipif(not LINUX_X86, reason="Linux library layout")
def test_bundle_carries_one_copy_of_each_library(bundle: Path) -> None:
    internal = bundle.parent / "_internal"
    real_files = [path for path in internal.rglob("*.so*") if not path.is_symlink()]
    names = [path.name for path in real_files]
    assert sorted(set(names)) == sorted(names), "a library is stored twice"
    # Carried on purpose: Qt's xcb helpers, which many desktops lack (Qt 6 needs xcb-cursor).
    for carried in ("libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1"):
        assert carried in names
    lib = internal / "llama_cpp" / "lib"
    assert (lib / "libllama.so").is_symlink() and (lib / "libllama.so.0").is_file()
    # Left out on purpose: Qt's QML/Quick, GTK's stack, and the desktop's own libraries.
    for absent in (
        "libQt6Qml.so.6",
        "libQt6Quick.so.6",
        "libqgtk3.so",
        "libX11.so.6",
        "libfontconfig.so.1",
        "libglib-2.0.so.0",
    ):
        assert absent not in names


@pytest.mark.skipif(sys.platform == "darwin", reason="the .app keeps its data under Resources")
def test_bundle_carries_the_translations_and_qts_own_for_their_languages(bundle: Path) -> None:
    """The app shows 简体中文 from the bundle: our catalogue, and Qt's for its standard dialogs
    (Qt's other languages stay out)."""
    internal = bundle.parent / "_internal"
    assert (internal / "app" / "ui" / "translations" / "quantdesk_zh_CN.qm").is_file()
    qt_translations = sorted(p.name for p in (internal / "PySide6" / "Qt").rglob("*.qm"))
    assert qt_translations == ["qtbase_zh_CN.qm"]


@pytest.mark.skipif(sys.platform == "darwin", reason="the macOS build has no loadable backends")
def test_corrupt_gpu_backend_in_the_bundle_is_skipped(
    bundle_copy: Path, tiny_model: Path, tmp_path: Path
) -> None:
    name = "ggml-cuda.dll" if sys.platform == "win32" else "libggml-cuda.so"
    corrupt = backends_folder(bundle_copy) / name
    corrupt.write_bytes(b"\x7fELF" + os.urandom(4096))
    env = clean_env(tmp_path)
    engine = engine_of([str(bundle_copy)], env)
    reasons = {item["path"]: item["reason"] for item in engine["skipped"]}
    assert "can't be loaded" in reasons[str(corrupt)]
    assert engine["cpu_variant"] not in (None, "native") and engine["gpu_offload"] is False
    text = run([str(bundle_copy), "hw"], env).stdout
    assert name in text and "skipped" in text.lower()
    assert greedy_chat([str(bundle_copy)], tiny_model, env)["content"]


def qemu_without_avx(executable: Path) -> list[str]:
    """Run the bundle on an emulated Nehalem (SSE4.2, no AVX). PyInstaller's bootloader
    re-executes itself once to set LD_LIBRARY_PATH, and qemu-user doesn't follow an execve: the
    re-executed app would run natively. So the environment of the re-executed process is given
    up front (qemu's -E), and the bootloader goes straight on."""
    internal = executable.parent / "_internal"
    guest_env = {
        "_PYI_ARCHIVE_FILE": str(executable),
        "_PYI_PARENT_PROCESS_LEVEL": "-1",
        "_PYI_LINUX_PROCESS_NAME": executable.name,
        "LD_LIBRARY_PATH": str(internal),
    }
    command = ["qemu-x86_64", "-cpu", "Nehalem"]
    for key, value in guest_env.items():
        command += ["-E", f"{key}={value}"]
    return [*command, str(executable)]


@pytest.mark.skipif(
    not shutil.which("qemu-x86_64"), reason="needs qemu-user (apt-get install qemu-user)"
)
def test_bundle_chats_on_a_cpu_without_avx(bundle: Path, tiny_model: Path, tmp_path: Path) -> None:
    # OPENBLAS_CORETYPE isn't passed (clean_env): this machine sets it to Haswell, which would
    # make numpy's OpenBLAS use AVX2 on the emulated CPU.
    env = clean_env(tmp_path)
    emulated = qemu_without_avx(bundle)
    engine = engine_of(emulated, env, timeout=300)
    assert engine["cpu_variant"] == "sse42", engine  # anything else: the app escaped emulation
    native = greedy_chat([str(bundle)], tiny_model, env)
    slow = greedy_chat(emulated, tiny_model, env, timeout=600)
    # The same answer from the SSE4.2 build as from this CPU's, until a near-tie: its SIMD code
    # adds floats in another order, so on an AVX-512 machine the two greedy replies parted at
    # the 6th token ("L'Étoile, la Cité," / "L'Étoile, la Marseilla"). A build that computed
    # wrongly would part at the first.
    shared = os.path.commonprefix([slow["content"], native["content"]])
    assert len(shared) >= 10, (slow["content"], native["content"])


def _validators() -> list[str]:
    return [tool for tool in ("desktop-file-validate", "appstreamcli") if not shutil.which(tool)]


@pytest.mark.skipif(bool(_validators()), reason="needs desktop-file-utils and appstream")
def test_deb_desktop_entry_and_metainfo_validate(built: Path, tmp_path: Path) -> None:
    deb = built / f"quantdesk_{__version__}_amd64.deb"
    subprocess.run(["dpkg-deb", "-x", str(deb), str(tmp_path)], check=True)
    share = tmp_path / "usr" / "share"
    run(
        ["desktop-file-validate", str(share / "applications" / f"{APP_ID}.desktop")],
        dict(os.environ),
    )
    run(
        [
            "appstreamcli",
            "validate",
            "--no-net",
            str(share / "metainfo" / f"{APP_ID}.metainfo.xml"),
        ],
        dict(os.environ),
    )
    for size in (16, 22, 24, 32, 48, 64, 128, 256, 512):
        assert (share / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "quantdesk.png").is_file()
    assert (share / "icons" / "hicolor" / "scalable" / "apps" / "quantdesk.svg").is_file()
    assert os.readlink(tmp_path / "usr" / "bin" / "quantdesk") == "/opt/quantdesk/quantdesk"
    control = subprocess.run(
        ["dpkg-deb", "-f", str(deb), "Depends"], capture_output=True, text=True
    )
    assert control.stdout.startswith("libc6 (>= 2.")


def _can_install_debs() -> str | None:
    if not LINUX_X86 or not shutil.which("dpkg"):
        return "needs dpkg"
    if os.geteuid() != 0:
        return "installing a .deb needs root"
    if os.environ.get("QUANTDESK_TEST_DPKG") == "0":
        return "QUANTDESK_TEST_DPKG=0"
    status = subprocess.run(["dpkg-query", "-W", "quantdesk"], capture_output=True, text=True)
    if status.returncode == 0:
        return "a quantdesk package is installed on this machine: not touching it"
    return None


@pytest.mark.skipif(bool(_can_install_debs()), reason=str(_can_install_debs()))
def test_deb_installs_runs_and_uninstalls_cleanly(
    built: Path, tiny_model: Path, tmp_path: Path
) -> None:
    deb = built / f"quantdesk_{__version__}_amd64.deb"
    installed = Path("/usr/bin/quantdesk")
    try:
        run(["dpkg", "-i", str(deb)], dict(os.environ), timeout=300)
        assert Path("/opt/quantdesk/quantdesk").is_file()
        assert Path(f"/usr/share/applications/{APP_ID}.desktop").is_file()
        smoke_test(installed, tiny_model, tmp_path)
    finally:
        removed = subprocess.run(["dpkg", "-r", "quantdesk"], capture_output=True, text=True)
    assert removed.returncode == 0, removed.stderr
    assert not os.path.lexists(installed) and not Path("/opt/quantdesk").exists()
    assert not Path(f"/usr/share/applications/{APP_ID}.desktop").exists()
