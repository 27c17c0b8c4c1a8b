"""GPU engine packs: the release's list read from a local server that speaks HTTP like a release
host, the pack downloaded with the real downloads core, verified, unpacked safely, and loaded by
llama.cpp from the next model load. No GPU here: the pack's "CUDA backend" is a real shared
library that isn't a ggml backend, so ggml refuses it and the app keeps working on the CPU."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from app.core.engine.packs import engines_dir, installed_packs, pack_folders, remove_pack
from app.core.errors import ChecksumMismatchError, EnginePackError
from app.core.hub import packs as engine_packs
from app.core.hub.packs import (
    EnginePack,
    fetch_packs,
    install_pack,
    packs_for_machine,
)
from app.core.machine.hardware import GpuInfo
from tests.localhub import LocalHub
from tests.release import ARCHIVE, RELEASE, cuda_pack_archive, make_archive, publish, real_library

GB = 1 << 30


@pytest.fixture
def release(local_hub: LocalHub, monkeypatch: pytest.MonkeyPatch) -> str:
    url = publish(local_hub, cuda_pack_archive())
    monkeypatch.setenv(engine_packs.MANIFEST_URL_ENV, url)
    return url


def the_pack() -> EnginePack:
    (pack,) = packs_for_machine(fetch_packs(), {"nvidia"})
    return pack


def test_pack_installs_from_the_release(release: str) -> None:
    pack = the_pack()
    assert pack.url.endswith(f"/{RELEASE}/resolve/main/{ARCHIVE}")
    seen = []
    folder = install_pack(pack, on_progress=seen.append)
    assert (folder / "libggml-cuda.so").is_file() and (folder / "libcudart.so.12").is_file()
    assert folder == engines_dir() / "cuda12"
    assert installed_packs()["cuda12"]["sha256"] == pack.sha256
    assert pack_folders() == [folder]
    assert seen and seen[-1].bytes_done == pack.size
    assert not list((engines_dir() / "downloads").rglob("*.tar.gz"))  # archive gone
    # Installing again replaces it whole; removing unlists it.
    assert install_pack(pack) == folder and pack_folders() == [folder]
    remove_pack("cuda12")
    assert installed_packs() == {} and not folder.exists()


def test_only_packs_for_this_machine_are_offered(local_hub: LocalHub) -> None:
    archive = cuda_pack_archive()
    assert packs_for_machine(fetch_packs(publish(local_hub, archive)), {"amd"}) == []
    for other in ({"platform": "windows-x86_64"}, {"engine": "0.0.1"}):
        assert (
            packs_for_machine(fetch_packs(publish(local_hub, archive, **other)), {"nvidia"}) == []
        )


def test_gpu_vendors_from_detected_gpus() -> None:
    gpus = [
        GpuInfo("NVIDIA GeForce RTX 3070", "cuda", 8 * GB, 7 * GB),
        GpuInfo("AMD Radeon RX 7900 XTX (RADV NAVI31)", "vulkan", 24 * GB, 20 * GB),
    ]
    assert engine_packs.gpu_vendors(gpus) == {"nvidia", "amd"}
    assert engine_packs.gpu_vendors([GpuInfo("Quadro P2000", "vulkan", GB, GB)]) == {"nvidia"}
    assert engine_packs.gpu_vendors([]) == set()


def test_a_wrong_sha256_installs_nothing(local_hub: LocalHub) -> None:
    url = publish(local_hub, cuda_pack_archive(), sha256="0" * 64)
    (pack,) = packs_for_machine(fetch_packs(url), {"nvidia"})
    with pytest.raises(ChecksumMismatchError):
        install_pack(pack)
    assert installed_packs() == {} and pack_folders() == []


@pytest.mark.parametrize("kind", ["parent", "absolute", "link-out"])
def test_an_unsafe_archive_is_refused(local_hub: LocalHub, tmp_path: Path, kind: str) -> None:
    unsafe = tarfile.TarInfo({"parent": "../../escaped.so", "absolute": "/tmp/escaped.so",
                              "link-out": "cuda12/libcublas.so.12"}[kind])  # fmt: skip
    if kind == "link-out":
        unsafe.type, unsafe.linkname = tarfile.SYMTYPE, "/etc/passwd"
    else:
        unsafe.size = 1
    archive = make_archive({"cuda12/libggml-cuda.so": real_library("libz.so.1")}, unsafe=unsafe)
    (pack,) = packs_for_machine(fetch_packs(publish(local_hub, archive)), {"nvidia"})
    with pytest.raises(EnginePackError, match="damaged or unsafe"):
        install_pack(pack)
    assert installed_packs() == {}
    root = engines_dir()
    assert not (root.parent / "escaped.so").exists() and not Path("/tmp/escaped.so").exists()
    assert sorted(p.name for p in root.iterdir()) == ["downloads"]


def test_an_archive_without_the_backend_is_refused(local_hub: LocalHub) -> None:
    archive = make_archive({"cuda12/README": b"nothing here"})
    (pack,) = packs_for_machine(fetch_packs(publish(local_hub, archive)), {"nvidia"})
    with pytest.raises(EnginePackError, match="has no libggml-cuda.so"):
        install_pack(pack)
    assert installed_packs() == {}


def test_missing_release_files_say_so(local_hub: LocalHub) -> None:
    with pytest.raises(EnginePackError, match="has no GPU engine packs"):
        fetch_packs(f"{local_hub.url}/{RELEASE}/resolve/main/engine-packs.json")
    archive = cuda_pack_archive()
    url = publish(local_hub, archive, file="quantdesk-cuda12-missing.tar.gz")
    (pack,) = packs_for_machine(fetch_packs(url), {"nvidia"})
    with pytest.raises(EnginePackError, match="doesn't have it"):
        install_pack(pack)
    local_hub.add_repo(RELEASE, {"engine-packs.json": b"{not json"})
    with pytest.raises(EnginePackError, match="damaged"):
        fetch_packs(url)
    with pytest.raises(EnginePackError, match="sha256"):
        fetch_packs(publish(local_hub, archive, sha256="abc"))


def test_unreachable_release_server_says_so() -> None:
    with pytest.raises(EnginePackError, match="Can't reach"):
        fetch_packs("http://127.0.0.1:9/engine-packs.json")


ONE_PROCESS = """
import json, sys
from app.core.engine import backends
from app.core.hub import packs as engine_packs
from app.core.engine.engine import Engine
from app.core.chat.prompting import ReplyRequest
from app.core.chat.template import Message

before = backends.ensure_backends()
(pack,) = engine_packs.packs_for_machine(engine_packs.fetch_packs(), {"nvidia"})
folder = engine_packs.install_pack(pack)
engine = Engine()
engine.load(sys.argv[1])  # the next model load: the new pack is loaded first
after = backends.loaded_engine()
request = ReplyRequest(
    turns=[Message("user", "The capital of France is")],
    overrides={"temperature": 0, "max_tokens": 4},
)
_prepared, started = engine.start_reply(request)
reply = "".join(text for _kind, text in started)
print(json.dumps({"before": before.as_dict(), "after": after.as_dict(), "folder": str(folder),
                  "reply": reply}))
"""


def test_a_new_pack_is_used_from_the_next_model_load(release: str, tiny_model: Path) -> None:
    """In one process: backends loaded, then a pack installed, then a model loaded. The pack's
    backend is tried then (here refused, as a backend for another build would be), its runtime
    libraries were loaded first, and the model still runs on the CPU."""
    env = {**os.environ}
    result = subprocess.run(
        [sys.executable, "-c", ONE_PROCESS, str(tiny_model)],
        capture_output=True, text=True, timeout=180, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    facts = json.loads(result.stdout.strip().splitlines()[-1])
    folder = facts["folder"]
    assert folder not in facts["before"]["folders"] and folder in facts["after"]["folders"]
    skipped = {item["path"]: item["reason"] for item in facts["after"]["skipped"]}
    assert "refused" in skipped[f"{folder}/libggml-cuda.so"]
    assert facts["after"]["cpu_variant"] == facts["before"]["cpu_variant"]
    assert facts["after"]["gpu_offload"] is False
    assert facts["reply"].strip()


def test_the_hugging_face_token_never_goes_to_the_release_server(
    release: str, local_hub: LocalHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_secret_token_value")
    install_pack(the_pack())
    assert local_hub.authorizations == [None] * len(local_hub.authorizations)
    assert local_hub.authorizations  # the server did record the requests


def test_a_half_install_is_not_listed_and_is_replaced(release: str) -> None:
    """A killed install leaves `.cuda12.new`: not listed, and replaced by the next install."""
    root = engines_dir()
    (root / ".cuda12.new" / "cuda12").mkdir(parents=True)
    (root / ".cuda12.new" / "cuda12" / "libggml-cuda.so").write_bytes(b"half")
    assert installed_packs() == {}
    folder = install_pack(the_pack())
    assert not (root / ".cuda12.new").exists() and (folder / "libggml-cuda.so").stat().st_size > 4


def test_a_pack_made_by_the_release_script_installs(local_hub: LocalHub, tmp_path: Path) -> None:
    """installers/make_engine_pack.py writes what engine_packs reads: archive and entry."""
    from installers.make_engine_pack import make_pack

    backend = tmp_path / "libggml-cuda.so"
    shutil.copyfile(real_library("libz.so.1"), backend)
    archive, entry = make_pack(
        "cuda12", "NVIDIA CUDA engine", "nvidia", backend, [real_library("libbz2.so.1.0")],
        tmp_path / "dist",
    )  # fmt: skip
    listing = json.dumps({"packs": [entry]}).encode()
    local_hub.add_repo(RELEASE, {"engine-packs.json": listing, archive.name: archive})
    url = f"{local_hub.url}/{RELEASE}/resolve/main/engine-packs.json"
    (pack,) = packs_for_machine(fetch_packs(url), {"nvidia"})
    folder = install_pack(pack)
    assert sorted(p.name for p in folder.iterdir()) == [
        "libbz2.so.1.0",
        "libggml-cuda.so",
        "pack.json",
    ]


def test_cancel_while_unpacking_leaves_nothing(
    release: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cancel between two files of the unpacking: no pack, no staging folder, no archive."""
    from app.core.errors import DownloadCancelledError
    from app.core.hub.download import DownloadControl

    unpack = engine_packs._unpack

    def cancel_then_unpack(
        archive: Path, root: Path, pack: EnginePack, ctl: DownloadControl
    ) -> Path:
        ctl.cancel()  # the person pressed Cancel as the download finished
        return unpack(archive, root, pack, ctl)

    monkeypatch.setattr(engine_packs, "_unpack", cancel_then_unpack)
    with pytest.raises(DownloadCancelledError):
        install_pack(the_pack(), control=DownloadControl())
    root = engines_dir()
    assert installed_packs() == {} and not (root / ".cuda12.new").exists()
    assert not list(root.rglob("*.tar.gz"))
