"""Downloads with the real huggingface_hub client against the local Hub, faults included."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from app.core.errors import (
    ChecksumMismatchError,
    DiskFullError,
    DownloadCancelledError,
    DownloadError,
    DownloadInterruptedError,
    GatedModelError,
    ModelNotFoundError,
    UnsafePathError,
)
from app.core.hub import download as download_module
from app.core.hub.client import RemoteFile, list_repo_files, select_files
from app.core.hub.download import (
    DownloadControl,
    DownloadProgress,
    DownloadResult,
    DownloadState,
    describe_progress,
    download,
)
from app.core.hub.library import find_local_models, partial_dir
from app.core.paths import app_paths
from tests.localhub import Fault, LocalHub
from tests.waiting import wait_until

REPO = "tester/Tiny-GGUF"
BLOB_SIZE = 3_000_000


def blob(seed: int = 1, size: int = BLOB_SIZE) -> bytes:
    return hashlib.shake_256(str(seed).encode()).digest(size)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(download_module, "BACKOFF_SECONDS", (0.05, 0.1, 0.2))
    monkeypatch.setattr(download_module, "STALL_SECONDS", 5.0)


def models_dir() -> Path:
    return app_paths().ensure().models


def pick(quant: str = "Q4_K_M", repo: str = REPO) -> list[RemoteFile]:
    return select_files(list_repo_files(repo), quant=quant)


def test_full_download_is_verified_and_placed(local_hub: LocalHub, tiny_model: Path) -> None:
    local_hub.add_repo(REPO, {"tiny-Q4_1.gguf": tiny_model, "README.md": b"# tiny\n"})
    updates: list[DownloadProgress] = []
    result = download(pick("Q4_1"), models_dir(), on_progress=updates.append)
    target = models_dir() / "tester" / "Tiny-GGUF" / "tiny-Q4_1.gguf"
    assert result.paths == [target]
    assert result.sha256_verified
    assert result.size_bytes == tiny_model.stat().st_size
    assert sha256(target.read_bytes()) == sha256(tiny_model.read_bytes())
    assert not list(partial_dir(models_dir()).glob("*.part"))
    done = [u.bytes_done for u in updates]
    assert done == sorted(done)
    assert updates[-1].state == "verifying"
    assert max(done) == result.size_bytes
    assert all(u.total_bytes == result.size_bytes for u in updates)


def test_file_is_invisible_until_verified(local_hub: LocalHub) -> None:
    local_hub.add_repo(REPO, {"m-Q4_K_M.gguf": blob()})
    local_hub.inject(Fault.SLOW, bytes_per_second=1_000_000)
    seen_while_downloading: list[list[Path]] = []

    def look(progress: DownloadProgress) -> None:
        if progress.state == "downloading" and progress.bytes_done > 0:
            seen_while_downloading.append(find_local_models(models_dir()))

    download(pick(), models_dir(), on_progress=look)
    assert seen_while_downloading and all(seen == [] for seen in seen_while_downloading)
    assert len(find_local_models(models_dir())) == 1


def test_dropped_connection_resumes_without_resending(local_hub: LocalHub) -> None:
    data = blob()
    local_hub.add_repo(REPO, {"m-Q4_K_M.gguf": data})
    local_hub.inject(Fault.DROP, after_bytes=1_000_000, times=2)
    (target,) = download(pick(), models_dir()).paths
    assert target.read_bytes() == data
    assert local_hub.bytes_sent["m-Q4_K_M.gguf"] < len(data) * 1.05
    assert any(r[2] and r[2].startswith("bytes=") for r in local_hub.requests)


def test_server_ignoring_range_restarts_cleanly(local_hub: LocalHub) -> None:
    data = blob()
    local_hub.add_repo(REPO, {"m-Q4_K_M.gguf": data})
    local_hub.inject(Fault.DROP, after_bytes=1_000_000, times=1)
    local_hub.inject(Fault.IGNORE_RANGE, times=1)
    (target,) = download(pick(), models_dir()).paths
    assert target.read_bytes() == data  # no stale prefix glued to a full body
    assert local_hub.bytes_sent["m-Q4_K_M.gguf"] == 1_000_000 + len(data)


def test_wrong_bytes_are_caught_and_discarded(local_hub: LocalHub) -> None:
    local_hub.add_repo(REPO, {"m-Q4_K_M.gguf": blob()})
    local_hub.inject(Fault.WRONG_BYTES)
    with pytest.raises(ChecksumMismatchError, match="don't match Hugging Face's checksum"):
        download(pick(), models_dir())
    assert find_local_models(models_dir()) == []
    assert not list(partial_dir(models_dir()).glob("*.part"))


def test_gated_repo_says_how_to_add_a_token(
    local_hub: LocalHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    local_hub.add_repo(REPO, {"m-Q4_K_M.gguf": blob()}, gated=True, token="hf_secret")
    with pytest.raises(GatedModelError, match="HF_TOKEN"):
        pick()
    monkeypatch.setenv("HF_TOKEN", "hf_secret")
    (target,) = download(pick(), models_dir()).paths
    assert target.stat().st_size == BLOB_SIZE


def test_missing_repo_and_missing_quant(local_hub: LocalHub) -> None:
    local_hub.add_repo(REPO, {"m-Q4_K_M.gguf": blob()})
    with pytest.raises(ModelNotFoundError, match="doesn't exist"):
        list_repo_files("tester/Nope-GGUF")
    with pytest.raises(ModelNotFoundError, match="Available: Q4_K_M"):
        pick("Q8_0")


def test_disk_too_small_is_refused_before_any_byte(
    local_hub: LocalHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    local_hub.add_repo(REPO, {"m-Q4_K_M.gguf": blob()})
    monkeypatch.setattr(download_module, "free_bytes", lambda folder: 50_000_000)
    with pytest.raises(DiskFullError) as caught:
        download(pick(), models_dir())
    assert caught.value.free_bytes == 50_000_000
    assert caught.value.needed_bytes > 50_000_000
    assert "47.7\u00a0MiB free" in str(caught.value)
    assert local_hub.bytes_sent.get("m-Q4_K_M.gguf", 0) == 0


@pytest.mark.parametrize(
    "name",
    [
        "../../evil.gguf",
        "/etc/evil.gguf",
        "a/../../../evil.gguf",
        "..\\evil.gguf",
        ".partial/x.gguf",
        "a//b.gguf",
    ],
)
def test_hostile_filenames_are_refused(name: str) -> None:
    hostile = RemoteFile(REPO, name, 10, None)
    with pytest.raises(UnsafePathError):
        download([hostile], models_dir())
    assert not (models_dir().parent / "evil.gguf").exists()


def test_hostile_repo_id_is_refused() -> None:
    with pytest.raises(UnsafePathError):
        download([RemoteFile("../x", "m.gguf", 10, None)], models_dir())


def test_shards_download_as_one_item(local_hub: LocalHub) -> None:
    first, second = blob(1), blob(2, 1_000_000)
    local_hub.add_repo(
        REPO,
        {
            "Q8_0/m-Q8_0-00001-of-00002.gguf": first,
            "Q8_0/m-Q8_0-00002-of-00002.gguf": second,
            "m-Q4_K_M.gguf": blob(3),
        },
    )
    updates: list[DownloadProgress] = []
    result = download(pick("Q8_0"), models_dir(), on_progress=updates.append)
    assert [p.name for p in result.paths] == [
        "m-Q8_0-00001-of-00002.gguf",
        "m-Q8_0-00002-of-00002.gguf",
    ]
    assert result.paths[1].read_bytes() == second
    assert {u.total_bytes for u in updates} == {len(first) + len(second)}
    assert max(u.bytes_done for u in updates) == len(first) + len(second)


@dataclass
class RunningDownload:
    """`download()` of the Q4_K_M file, running on a thread against a faulty local Hub."""

    control: DownloadControl
    thread: threading.Thread
    updates: list[DownloadProgress] = field(default_factory=list)
    outcome: list[object] = field(default_factory=list)

    @property
    def states(self) -> list[str]:
        return [u.state for u in self.updates]

    def started(self) -> bool:
        return any(u.bytes_done > 0 for u in self.updates)

    def outcome_within(self, seconds: float) -> object:
        """What `download()` returned or raised, once its thread has ended."""
        self.thread.join(seconds)
        assert not self.thread.is_alive(), f"the download still runs after {seconds:g} s"
        return self.outcome[0]


StartDownload = Callable[..., RunningDownload]


@pytest.fixture
def start_download(local_hub: LocalHub) -> Iterator[StartDownload]:
    """Serve `data` as m-Q4_K_M.gguf with a fault (`LocalHub.inject`'s arguments; `times`
    defaults to every request) and start downloading it on a thread.

    Whatever a test leaves running is cancelled and joined, so no thread outlives the test.
    """
    running: list[RunningDownload] = []

    def start(fault: Fault, *, data: bytes | None = None, **rule: Any) -> RunningDownload:
        local_hub.add_repo(REPO, {"m-Q4_K_M.gguf": blob() if data is None else data})
        local_hub.inject(fault, **({"times": None} | rule))
        files = pick()
        control = DownloadControl()

        def body() -> None:
            try:
                job.outcome.append(
                    download(files, models_dir(), control=control, on_progress=job.updates.append)
                )
            except Exception as exc:  # noqa: BLE001 - the test inspects whatever it raised
                job.outcome.append(exc)

        job = RunningDownload(control, threading.Thread(target=body, name="test-download"))
        running.append(job)
        job.thread.start()
        return job

    yield start
    for job in running:
        job.control.cancel()
        job.thread.join(10)


def test_cancel_takes_effect_at_once(start_download: StartDownload) -> None:
    # At 100 kB/s the whole file takes 30 s: a cancel that waited for the end would be caught.
    job = start_download(Fault.SLOW, bytes_per_second=100_000)
    wait_until(job.started, timeout=10, what="the first bytes arrived")
    job.control.cancel()
    assert isinstance(job.outcome_within(10), DownloadCancelledError)
    assert not list(partial_dir(models_dir()).glob("*.part"))


def test_pause_and_cancel_are_prompt_even_on_a_silent_link(
    start_download: StartDownload, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The link goes silent after 200 kB: the read blocks until the stall timeout (60 s here).
    # Pause and cancel shut the socket down instead of waiting, so the generous 10 s limits
    # below still catch a transfer that waits for its read.
    monkeypatch.setattr(download_module, "STALL_SECONDS", 60.0)
    job = start_download(Fault.STALL, after_bytes=200_000, times=1)

    def all_sent_bytes_written() -> bool:
        parts = list(partial_dir(models_dir()).glob("*.part"))
        return bool(parts) and parts[0].stat().st_size >= 200_000

    # Now the download waits in a read that no byte will end.
    wait_until(all_sent_bytes_written, timeout=10, what="the 200 kB were on disk")
    job.control.pause()
    wait_until(lambda: "paused" in job.states, timeout=10, what="the download said it paused")
    job.control.cancel()
    assert isinstance(job.outcome_within(10), DownloadCancelledError)


def test_a_second_download_of_the_same_file_is_refused_not_interleaved(
    start_download: StartDownload,
) -> None:
    data = blob()
    job = start_download(Fault.SLOW, bytes_per_second=2_000_000, times=1, data=data)
    wait_until(job.started, timeout=10, what="the first download started")
    files = pick()
    with pytest.raises(DownloadError, match="already being downloaded"):
        download(files, models_dir())
    with pytest.raises(DownloadError, match="already being downloaded"):
        download(files, models_dir())  # refused twice: the first refusal broke nothing
    result = job.outcome_within(30)
    assert isinstance(result, DownloadResult)
    assert result.paths[0].read_bytes() == data


def test_pause_keeps_the_bytes_and_resume_finishes(
    start_download: StartDownload, local_hub: LocalHub
) -> None:
    data = blob()
    job = start_download(Fault.SLOW, bytes_per_second=1_000_000, data=data)
    wait_until(job.started, timeout=10, what="the first bytes arrived")
    job.control.pause()
    wait_until(lambda: "paused" in job.states, timeout=10, what="the download said it paused")
    part = next(partial_dir(models_dir()).glob("*.part"))
    paused_size = part.stat().st_size
    time.sleep(0.5)  # not a time limit: long enough for bytes to arrive if the pause leaked any
    assert 0 < part.stat().st_size == paused_size < len(data)
    local_hub.clear_faults()
    job.control.resume()
    result = job.outcome_within(30)
    assert isinstance(result, DownloadResult)
    assert result.paths[0].read_bytes() == data


def test_rate_limit_waits_and_goes_on(local_hub: LocalHub) -> None:
    local_hub.add_repo(REPO, {"m-Q4_K_M.gguf": blob()})
    files = pick()
    local_hub.inject(Fault.STATUS, status=429, retry_after=0, path="m-Q4_K_M.gguf", times=1)
    (target,) = download(files, models_dir()).paths
    assert target.stat().st_size == BLOB_SIZE


def test_server_gone_keeps_the_partial_and_a_new_run_resumes(
    local_hub: LocalHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = blob(9, 4_000_000)
    local_hub.add_repo(REPO, {"m-Q4_K_M.gguf": data})
    files = pick()
    local_hub.inject(Fault.SLOW, bytes_per_second=1_000_000, times=None)
    stopped = threading.Event()

    def stop_server(progress: DownloadProgress) -> None:
        if progress.bytes_done > 1_000_000 and not stopped.is_set():
            stopped.set()
            threading.Thread(target=local_hub.stop).start()

    with pytest.raises(DownloadInterruptedError, match="resume to continue"):
        download(files, models_dir(), on_progress=stop_server)
    part = next(partial_dir(models_dir()).glob("*.part"))
    kept = part.stat().st_size
    assert kept > 1_000_000

    second = LocalHub().start()
    try:
        second.add_repo(REPO, {"m-Q4_K_M.gguf": data})
        monkeypatch.setenv("HF_ENDPOINT", second.url)
        (target,) = download(pick(), models_dir()).paths
        assert target.read_bytes() == data
        assert second.bytes_sent["m-Q4_K_M.gguf"] == len(data) - kept
    finally:
        second.stop()


def test_kill_9_halfway_then_resume_in_a_new_process(
    local_hub: LocalHub, tiny_model: Path, quantdesk_home: Path
) -> None:
    size = tiny_model.stat().st_size
    local_hub.add_repo(REPO, {"tiny-Q4_1.gguf": tiny_model})
    local_hub.inject(Fault.SLOW, bytes_per_second=20_000_000, times=None)
    command = [sys.executable, "-m", "app", "pull", REPO, "--quant", "Q4_1", "--json"]
    first = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=os.environ.copy()
    )
    partials = quantdesk_home / "models" / ".partial"

    def half_written() -> bool:
        parts = list(partials.glob("*.part")) if partials.is_dir() else []
        return bool(parts) and parts[0].stat().st_size > size // 2

    wait_until(half_written, timeout=60, what="half the file was on disk")
    first.send_signal(signal.SIGKILL)
    first.communicate()
    sent_before = local_hub.bytes_sent["tiny-Q4_1.gguf"]
    assert sent_before < size

    local_hub.clear_faults()
    second = subprocess.run(
        command, capture_output=True, text=True, timeout=120, env=os.environ.copy()
    )
    assert second.returncode == 0, second.stderr
    resent = local_hub.bytes_sent["tiny-Q4_1.gguf"] - size
    assert resent < size * 0.1, f"{resent} bytes sent twice"
    target = quantdesk_home / "models" / "tester" / "Tiny-GGUF" / "tiny-Q4_1.gguf"
    assert sha256(target.read_bytes()) == sha256(tiny_model.read_bytes())
    assert not list(partials.glob("*.part")) and not list(partials.glob("*.json"))


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 2 MB filesystem (tmpfs) for the models folder; needs root, as CI and the dev VM are."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount_point)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip("mounting a tmpfs needs root")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=False)


def test_disk_filling_up_mid_download_keeps_the_bytes_and_resumes(
    local_hub: LocalHub, small_disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = blob()  # 3 MB onto a 2 MB disk
    local_hub.add_repo(REPO, {"m-Q4_K_M.gguf": data})
    # Another program fills the disk after our free-space check: the check sees room.
    monkeypatch.setattr(download_module, "free_bytes", lambda folder: 10**12)
    models = small_disk / "models"
    with pytest.raises(DiskFullError, match="disk is full"):
        download(pick(), models)
    (part,) = partial_dir(models).glob("*.part")
    kept = part.stat().st_size
    assert kept > 1_000_000
    assert find_local_models(models) == []

    subprocess.run(["mount", "-o", "remount,size=8m", str(small_disk)], check=True)
    sent_before = local_hub.bytes_sent["m-Q4_K_M.gguf"]
    (target,) = download(pick(), models).paths
    assert target.read_bytes() == data
    assert local_hub.bytes_sent["m-Q4_K_M.gguf"] - sent_before == len(data) - kept


def test_every_download_state_is_told_in_words() -> None:
    def line(state: DownloadState) -> str:
        return describe_progress(DownloadProgress("m.gguf", 1 << 20, 2 << 20, None, None, state))

    assert line(DownloadState.DOWNLOADING) == "1.0\u00a0MiB of 2.0\u00a0MiB · — · —"
    others = [state for state in DownloadState if state is not DownloadState.DOWNLOADING]
    assert len(others) == 4
    described = {line(state).split(" · ", 1)[1] for state in others}
    assert len(described) == 4 and "checking the bytes kept from last time…" in described
