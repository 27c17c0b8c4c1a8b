"""Download throughput: Quantdesk's resumable, verified download vs plain `hf_hub_download`.

    .venv/bin/python -m bench.bench_download [--size-mb 512] [--runs 5]

Both fetch the same file from the same local Hub (tests/localhub.py, loopback, plain HTTP) into a
fresh folder, alternating runs. Quantdesk's side also computes the sha256 while writing and checks
it against the Hub's; `hf_hub_download` checks nothing. Prints medians and the ratio (> 1 means
Quantdesk is faster). Loopback has no network limit, so this measures the per-byte cost on
our side: on a real link both wait on the network.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from tests.localhub import LocalHub

REPO = "bench/Big-GGUF"
NAME = "big-Q4_K_M.gguf"


def make_file(folder: Path, size: int) -> Path:
    path = folder / NAME
    block = hashlib.shake_256(b"quantdesk").digest(1 << 20)
    with path.open("wb") as out:
        for _ in range(size // len(block)):
            out.write(block)
    return path


def run_quantdesk(folder: Path) -> float:
    from app.core.hub.client import list_repo_files, select_files
    from app.core.hub.download import download

    files = select_files(list_repo_files(REPO), filename=NAME)
    started = time.perf_counter()
    result = download(files, folder)
    elapsed = time.perf_counter() - started
    assert result.sha256_verified
    return result.size_bytes / elapsed


def run_hf_hub_download(folder: Path, endpoint: str, size: int) -> float:
    from huggingface_hub import hf_hub_download

    started = time.perf_counter()
    path = hf_hub_download(REPO, NAME, local_dir=folder, endpoint=endpoint, token=False)
    elapsed = time.perf_counter() - started
    assert Path(path).stat().st_size == size
    return size / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=512)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    with tempfile.TemporaryDirectory(prefix="quantdesk-bench-") as tmp, LocalHub() as hub:
        source = make_file(Path(tmp), args.size_mb * (1 << 20))
        size = source.stat().st_size
        hub.add_repo(REPO, {NAME: source})
        os.environ["HF_ENDPOINT"] = hub.url
        ours, theirs = [], []
        for run in range(args.runs):
            # Each run writes into a new folder, deleted after: no run pays for another's writeback.
            ours.append(run_quantdesk(Path(tmp) / f"q{run}"))
            shutil.rmtree(Path(tmp) / f"q{run}")
            theirs.append(run_hf_hub_download(Path(tmp) / f"h{run}", hub.url, size))
            shutil.rmtree(Path(tmp) / f"h{run}")
        med = statistics.median
        mbps = 1e6
        print(f"file: {size / 1e6:.0f} MB, runs: {args.runs}, local Hub on loopback")
        print(f"Quantdesk download (sha256 verified) {med(ours) / mbps:7.1f} MB/s")
        print(f"hf_hub_download (no verification)    {med(theirs) / mbps:7.1f} MB/s")
        print(f"ratio {med(ours) / med(theirs):.3f}")


if __name__ == "__main__":
    main()
