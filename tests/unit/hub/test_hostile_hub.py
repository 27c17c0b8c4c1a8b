"""A hostile or broken Hub (issue 14): the real huggingface_hub client against the local Hub's
faults. Nothing a server sends may hang Quantdesk, fill the disk or grow memory without bound."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.core.errors import (
    DownloadInterruptedError,
    HubError,
    ModelHeaderError,
    ModelNotFoundError,
    OfflineError,
    RateLimitedError,
    UnsafePathError,
)
from app.core.hub import client as client_module
from app.core.hub import download as download_module
from app.core.hub.client import RemoteFile, list_repo_files, select_files
from app.core.hub.download import DownloadControl, DownloadProgress, download
from app.core.hub.remote_header import BLOCK_BYTES, read_remote_header
from app.core.paths import app_paths
from tests.localhub import Fault, LocalHub

REPO = "tester/Tiny-GGUF"
N_DIMS_OFFSET = 1_780_504  # blk.27.ffn_up.weight's n_dims (2) in the test model
# What a test that would hang before its fix may take before it counts as hung.
HANG_SECONDS = 30.0


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(download_module, "BACKOFF_SECONDS", (0.05, 0.1, 0.2))
    monkeypatch.setattr(download_module, "STALL_SECONDS", 5.0)


def blob(seed: int = 1, size: int = 3_000_000) -> bytes:
    return hashlib.shake_256(str(seed).encode()).digest(size)


def models_dir() -> Path:
    return app_paths().ensure().models


def pick(quant: str = "Q4_K_M") -> list[RemoteFile]:
    return select_files(list_repo_files(REPO), quant=quant)


def finishes(work: Callable[[], Any], *, stop: Callable[[], None] | None = None) -> Any:
    """`work()`'s result (or the exception it raised), failing the test if it runs past
    HANG_SECONDS: the behaviour each fix removes is running forever."""
    outcome: list[Any] = []

    def body() -> None:
        try:
            outcome.append(work())
        except Exception as exc:  # noqa: BLE001 - handed to the test to assert on
            outcome.append(exc)

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    thread.join(HANG_SECONDS)
    if thread.is_alive():
        if stop is not None:
            stop()
        pytest.fail(f"still running after {HANG_SECONDS:.0f} s")
    return outcome[0]


# --- downloads -----------------------------------------------------------------------------------


def test_a_body_longer_than_listed_stops_at_the_listed_size(local_hub: LocalHub) -> None:
    data = blob(size=1_000_000)
    local_hub.add_repo(REPO, {"m-Q4_K_M.gguf": data})
    local_hub.inject(Fault.ENDLESS, path="m-Q4_K_M.gguf", times=None)  # the bytes, then forever
    control = DownloadControl()
    updates: list[DownloadProgress] = []
    result = finishes(
        lambda: download(pick(), models_dir(), control=control, on_progress=updates.append),
        stop=control.cancel,
    )
    (target,) = result.paths
    assert target.read_bytes() == data  # the listed bytes, proven by their sha256
    assert max(u.bytes_done for u in updates) == len(data)


def test_a_longer_body_without_a_checksum_is_a_failed_attempt(local_hub: LocalHub) -> None:
    # A small plain file (no LFS sha256): nothing can prove the listed bytes, so no copy is kept.
    local_hub.add_repo(REPO, {"config.json": b"{}" * 1000})
    local_hub.inject(Fault.ENDLESS, path="config.json", times=None)
    control = DownloadControl()
    files = select_files(list_repo_files(REPO), filename="config.json")
    error = finishes(lambda: download(files, models_dir(), control=control), stop=control.cancel)
    assert isinstance(error, DownloadInterruptedError), error
    assert "more than the listed 2.0\u00a0KiB" in str(error)
    assert not (models_dir() / "tester" / "Tiny-GGUF" / "config.json").exists()


def test_a_restart_from_zero_is_a_failed_attempt(local_hub: LocalHub) -> None:
    # Every reply is a clean 400 KB; every resume is answered from byte 0 (Range ignored).
    local_hub.add_repo(REPO, {"m-Q4_K_M.gguf": blob()})
    local_hub.inject(Fault.SHORT, after_bytes=400_000, times=None)
    local_hub.inject(Fault.IGNORE_RANGE, times=None)
    control = DownloadControl()
    error = finishes(lambda: download(pick(), models_dir(), control=control), stop=control.cancel)
    assert isinstance(error, DownloadInterruptedError), error
    assert "ignored the resume point" in str(error)
    gets = [r for r in local_hub.requests if r[0] == "GET" and r[1].startswith("/cdn-lfs/")]
    # The first reply, then one restart per backoff step and the one that exhausts the budget.
    assert len(gets) == 2 + len(download_module.BACKOFF_SECONDS)


def test_a_trickle_of_bytes_trips_the_minimum_rate_rule(
    local_hub: LocalHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A byte every 50 ms never trips a 0.5 s read timeout, but is far under 1 KB/s.
    monkeypatch.setattr(download_module, "STALL_SECONDS", 0.5)
    local_hub.add_repo(REPO, {"m-Q4_K_M.gguf": blob()})
    local_hub.inject(Fault.SLOW, bytes_per_second=20, times=None)
    control = DownloadControl()
    error = finishes(lambda: download(pick(), models_dir(), control=control), stop=control.cancel)
    assert isinstance(error, DownloadInterruptedError), error
    assert "slowed to" in str(error)


# --- metadata calls ------------------------------------------------------------------------------


def test_a_listing_page_is_tried_again_after_a_server_error(local_hub: LocalHub) -> None:
    # huggingface_hub's own listing retried 429/5xx; ours must too, within its deadline.
    local_hub.add_repo(REPO, {"m-Q4_K_M.gguf": blob()})
    local_hub.inject(Fault.STATUS, path="tree/main", status=503, times=1)
    local_hub.inject(Fault.STATUS, path="tree/main", status=429, retry_after=0, times=1)
    assert [f.path for f in list_repo_files(REPO)] == ["m-Q4_K_M.gguf"]


def test_a_listing_that_stays_busy_is_a_rate_limit_error(
    local_hub: LocalHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_module, "LISTING_BACKOFF", 0.05)
    local_hub.add_repo(REPO, {"m-Q4_K_M.gguf": blob()})
    local_hub.inject(Fault.STATUS, path="tree/main", status=429, retry_after=0, times=None)
    error = finishes(lambda: list_repo_files(REPO))
    assert isinstance(error, RateLimitedError), error


def test_a_silent_listing_meets_the_metadata_deadline(
    local_hub: LocalHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_module, "METADATA_TIMEOUT", 1.0)
    local_hub.add_repo(REPO, {"m-Q4_K_M.gguf": blob()})
    local_hub.inject(Fault.SILENT, path="tree/main", times=None)
    error = finishes(lambda: list_repo_files(REPO))
    assert isinstance(error, OfflineError), error
    assert "didn't answer" in str(error)


def test_an_endless_listing_is_cut_at_the_deadline_or_the_size_cap(
    local_hub: LocalHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    local_hub.add_repo(REPO, {"m-Q4_K_M.gguf": blob()})
    monkeypatch.setattr(client_module, "MAX_LISTING_BYTES", 2 << 20)
    local_hub.inject(Fault.ENDLESS, path="tree/main", times=1)
    error = finishes(lambda: list_repo_files(REPO))
    assert isinstance(error, HubError) and "far longer than any real one" in str(error), error
    # Under the size cap, the deadline ends it.
    monkeypatch.setattr(client_module, "MAX_LISTING_BYTES", 1 << 40)
    monkeypatch.setattr(client_module, "METADATA_TIMEOUT", 1.0)
    local_hub.inject(Fault.ENDLESS, path="tree/main", times=1)
    error = finishes(lambda: list_repo_files(REPO))
    assert isinstance(error, OfflineError) and "didn't answer" in str(error), error


def test_a_listing_that_links_to_itself_stops_at_the_page_cap(
    local_hub: LocalHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_module, "MAX_LISTING_PAGES", 5)
    local_hub.add_repo(REPO, {"m-Q4_K_M.gguf": blob()})
    local_hub.inject(Fault.SELF_LINK, path="tree/main", times=None)
    error = finishes(lambda: list_repo_files(REPO))
    assert isinstance(error, HubError) and "over 5 pages" in str(error), error
    assert sum("/tree/" in r[1] for r in local_hub.requests) == 5


@pytest.mark.parametrize(
    "reply", [[{"type": "file"}], [["not", "an", "object"]], {"error": None}], ids=str
)
def test_a_malformed_listing_is_our_hub_error(local_hub: LocalHub, reply: object) -> None:
    local_hub.add_repo(REPO, {"m-Q4_K_M.gguf": blob()})
    local_hub.inject(Fault.JSON, path="tree/main", body=reply)
    with pytest.raises(HubError, match="couldn't be read"):
        list_repo_files(REPO)


def test_the_client_keeps_its_state_in_our_folder_and_sends_no_telemetry(
    local_hub: LocalHub, tmp_path: Path
) -> None:
    # huggingface_hub reads its environment once, at import: a fresh process shows what the
    # app gets. A malformed agent-harnesses reply used to break every call for a day.
    local_hub.add_repo(REPO, {"m-Q4_K_M.gguf": blob()})
    local_hub.inject(Fault.JSON, path="/api/agent-harnesses", body=["not", "a", "dict"], times=None)
    user_home = tmp_path / "user"
    env = {key: value for key, value in os.environ.items() if not key.startswith(("HF_", "XDG_"))}
    env |= {
        "HOME": str(user_home),
        "HF_ENDPOINT": local_hub.url,
        "AI_AGENT": "some-agent",  # what makes the client look its registry up
        "QUANTDESK_HOME": str(tmp_path / "qd"),
    }
    script = (
        "import sys\n"
        "from app.core.hub.client import list_repo_files\n"
        "print(len(list_repo_files(sys.argv[1])))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, REPO], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"
    assert not any(path.startswith("/api/agent-harnesses") for _, path, _ in local_hub.requests)
    assert not (user_home / ".cache" / "huggingface").exists()


# --- remote headers ------------------------------------------------------------------------------


def _edited_model(tiny_model: Path, folder: Path) -> Path:
    """The test model's header with one n_dims byte changed (2 -> 1): the next name reads as
    ~75 MB. The weights are left a hole (a sparse file): only the header is ever read."""
    with tiny_model.open("rb") as stream:
        header = bytearray(stream.read(N_DIMS_OFFSET + 4096))
    header[N_DIMS_OFFSET] = 1
    path = folder / "tiny-Q4_1.gguf"
    with path.open("wb") as out:
        out.write(header)
        out.truncate(tiny_model.stat().st_size)
    return path


def test_a_bad_remote_header_fails_fast_as_our_error(
    local_hub: LocalHub, tiny_model: Path, tmp_path: Path
) -> None:
    local_hub.add_repo(REPO, {"tiny-Q4_1.gguf": _edited_model(tiny_model, tmp_path)})
    (remote,) = pick("Q4_1")
    with pytest.raises(ModelHeaderError, match="a tensor name claims") as caught:
        read_remote_header(remote)
    assert len(str(caught.value)) < 300
    assert local_hub.bytes_sent["tiny-Q4_1.gguf"] <= BLOCK_BYTES  # the header's first block only


def test_a_partial_reply_without_end_is_read_only_as_far_as_asked(
    local_hub: LocalHub, tiny_model: Path
) -> None:
    local_hub.add_repo(REPO, {"tiny-Q4_1.gguf": tiny_model})
    (remote,) = pick("Q4_1")
    local_hub.inject(Fault.ENDLESS, path="tiny-Q4_1.gguf", times=None)  # 206s that never end
    tracemalloc.start()
    try:
        header = finishes(lambda: read_remote_header(remote))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert not isinstance(header, Exception), header
    assert header.architecture == "llama"
    # A block held by the reader, one being read, and their copies: never the endless body.
    assert peak < 6 * BLOCK_BYTES


def test_recommend_says_one_short_line_for_a_bad_remote_header(
    local_hub: LocalHub, tiny_model: Path, tmp_path: Path
) -> None:
    local_hub.add_repo(REPO, {"tiny-Q4_1.gguf": _edited_model(tiny_model, tmp_path)})
    done = subprocess.run(
        [sys.executable, "-m", "app", "recommend", REPO],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
    )
    assert done.returncode not in (0, 1), done.stderr  # a bad model, not a bug
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and len(lines[0]) < 300, done.stderr[:500]
    assert "a tensor name claims" in lines[0]
    assert local_hub.bytes_sent["tiny-Q4_1.gguf"] <= BLOCK_BYTES


# --- names ---------------------------------------------------------------------------------------


def test_a_name_part_over_255_bytes_is_refused_before_any_byte(local_hub: LocalHub) -> None:
    name = "é" * 125 + "-Q4_K_M.gguf"  # 262 bytes in UTF-8, 137 characters
    local_hub.add_repo(REPO, {name: blob()})
    with pytest.raises(UnsafePathError, match="at most 255 bytes"):
        download(pick(), models_dir())
    assert local_hub.bytes_sent.get(name, 0) == 0


def test_control_characters_in_listed_names_are_escaped_in_messages(local_hub: LocalHub) -> None:
    local_hub.add_repo(
        REPO, {"a\x1b[2J-Q4_K_M.gguf": blob(1, 10), "b\x07-Q4_K_M.gguf": blob(2, 10)}
    )
    with pytest.raises(ModelNotFoundError, match="several Q4_K_M files") as caught:
        pick()
    message = str(caught.value)
    assert "\x1b" not in message and "\x07" not in message
    assert "a\\x1b[2J-Q4_K_M" in message and "b\\x07-Q4_K_M" in message


def test_text_direction_controls_in_names_are_refused(local_hub: LocalHub) -> None:
    name = "model-\u202efuggs.exe.gguf"  # shows as "model-exe.sggu f..." reversed
    local_hub.add_repo(REPO, {name: blob()})
    files = select_files(list_repo_files(REPO), filename=name)
    with pytest.raises(UnsafePathError, match="text-direction") as caught:
        download(files, models_dir())
    assert "\u202e" not in str(caught.value) and "\\u202e" in str(caught.value)
    assert local_hub.bytes_sent.get(name, 0) == 0
