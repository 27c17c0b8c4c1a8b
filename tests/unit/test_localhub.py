"""The local Hub against the real `huggingface_hub` client (and plain httpx2 for ranges)."""

from __future__ import annotations

import hashlib
import io
import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from huggingface_hub import HfApi, get_hf_file_metadata, hf_hub_download, hf_hub_url
from huggingface_hub.errors import (
    GatedRepoError,
    HfHubHTTPError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from app.core.gguf.header import read_header
from tests.localhub import Fault, LocalHub, gguf_header, seed_repos

REPO = "org/tiny-GGUF"
GGUF = "Q8_0/tiny-Q8_0.gguf"
BLOB = os.urandom(3_000_000)
README = b"# tiny\n"


@pytest.fixture
def hub() -> Iterator[LocalHub]:
    with LocalHub() as hub:
        hub.add_repo(REPO, {"README.md": README, GGUF: BLOB})
        yield hub
    assert hub.errors == []  # no exception inside the server


def api(hub: LocalHub, token: str | bool = False) -> HfApi:
    return HfApi(endpoint=hub.url, token=token)


def download(hub: LocalHub, folder: Path, filename: str = GGUF, **kwargs: object) -> Path:
    kwargs.setdefault("token", False)
    path = hf_hub_download(
        REPO, filename, local_dir=folder, cache_dir=folder / "cache", endpoint=hub.url, **kwargs
    )
    return Path(path)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def get_range(url: str, byte_range: str) -> httpx2.Response:
    with httpx2.Client(follow_redirects=True) as client:
        return client.get(url, headers={"Range": byte_range})


def test_model_info_lists_files_with_lfs_sha256_and_sizes(hub: LocalHub) -> None:
    info = api(hub).model_info(REPO, files_metadata=True)
    files = {s.rfilename: s for s in info.siblings or []}
    assert info.id == REPO and len(info.sha or "") == 40 and "gguf" in (info.tags or [])
    assert files[GGUF].size == len(BLOB)
    assert files[GGUF].lfs is not None and files[GGUF].lfs.sha256 == sha256(BLOB)
    assert files["README.md"].size == len(README) and files["README.md"].lfs is None
    assert api(hub).model_info(REPO, revision=info.sha).sha == info.sha


def test_list_repo_tree_lists_a_file_inside_a_folder(hub: LocalHub) -> None:
    entries = {e.path: e for e in api(hub).list_repo_tree(REPO, recursive=True, expand=True)}
    assert set(entries) == {"Q8_0", GGUF, "README.md"}
    assert entries[GGUF].size == len(BLOB)
    assert entries[GGUF].lfs is not None and entries[GGUF].lfs.sha256 == sha256(BLOB)
    top = [e.path for e in api(hub).list_repo_tree(REPO)]
    assert top == ["Q8_0", "README.md"]
    assert [e.path for e in api(hub).list_repo_tree(REPO, path_in_repo="Q8_0")] == [GGUF]


def test_list_models_finds_a_repo_by_search(hub: LocalHub) -> None:
    hub.add_repo("someone/other", {"a.txt": b"a"})
    assert [m.id for m in api(hub).list_models(search="TINY")] == [REPO]
    assert len(list(api(hub).list_models(filter="gguf", limit=1))) == 1
    assert list(api(hub).list_models(search="nothing-like-it")) == []


def test_hf_hub_download_gets_the_exact_bytes(hub: LocalHub, tmp_path: Path) -> None:
    assert sha256(download(hub, tmp_path).read_bytes()) == sha256(BLOB)
    assert download(hub, tmp_path, "README.md").read_bytes() == README
    assert hub.bytes_sent[GGUF] == len(BLOB)


def test_a_file_served_from_disk(hub: LocalHub, tmp_path: Path) -> None:
    source = tmp_path / "disk.gguf"
    source.write_bytes(BLOB[:200_000])
    hub.add_repo(REPO, {"disk.gguf": source})
    assert download(hub, tmp_path / "out", "disk.gguf").read_bytes() == BLOB[:200_000]


def test_file_metadata_gives_etag_size_and_commit(hub: LocalHub) -> None:
    commit = api(hub).model_info(REPO).sha
    meta = get_hf_file_metadata(hf_hub_url(REPO, GGUF, endpoint=hub.url), token=False)
    assert (meta.etag, meta.size, meta.commit_hash) == (sha256(BLOB), len(BLOB), commit)
    assert "/cdn-lfs/" in meta.location
    small = get_hf_file_metadata(hf_hub_url(REPO, "README.md", endpoint=hub.url), token=False)
    assert small.etag == hashlib.sha1(b"blob %d\0" % len(README) + README).hexdigest()
    assert small.size == len(README) and small.location.endswith("/resolve/main/README.md")


def test_range_requests(hub: LocalHub) -> None:
    url = hf_hub_url(REPO, GGUF, endpoint=hub.url)
    response = get_range(url, "bytes=1000-1999")
    assert response.status_code == 206 and response.content == BLOB[1000:2000]
    assert response.headers["Content-Range"] == f"bytes 1000-1999/{len(BLOB)}"
    assert get_range(url, f"bytes={len(BLOB) - 10}-").content == BLOB[-10:]
    assert get_range(url, "bytes=-5").content == BLOB[-5:]
    assert get_range(url, f"bytes={len(BLOB)}-").status_code == 416
    assert ("GET", f"/{REPO}/resolve/main/{GGUF}", "bytes=1000-1999") in hub.requests


def test_gated_repo_needs_its_token(hub: LocalHub, tmp_path: Path) -> None:
    hub.add_repo("org/gated", {"m.gguf": b"GGUF-gated"}, gated=True, token="hf_secret")
    with pytest.raises(GatedRepoError):
        api(hub).model_info("org/gated")
    with pytest.raises(GatedRepoError):
        list(api(hub, "hf_wrong").list_repo_tree("org/gated"))
    with pytest.raises(GatedRepoError):
        hf_hub_download("org/gated", "m.gguf", local_dir=tmp_path, endpoint=hub.url, token=False)
    assert api(hub, "hf_secret").model_info("org/gated").gated == "auto"
    path = hf_hub_download(
        "org/gated", "m.gguf", local_dir=tmp_path, endpoint=hub.url, token="hf_secret"
    )
    assert Path(path).read_bytes() == b"GGUF-gated"


def test_gate_api_false_gates_only_downloads(hub: LocalHub, tmp_path: Path) -> None:
    hub.add_repo("org/gated", {"m.gguf": b"GGUF-gated"}, gated=True, gate_api=False)
    assert [e.path for e in api(hub).list_repo_tree("org/gated")] == ["m.gguf"]
    with pytest.raises(GatedRepoError):
        hf_hub_download("org/gated", "m.gguf", local_dir=tmp_path, endpoint=hub.url, token=False)


def test_missing_repo_file_and_revision(hub: LocalHub, tmp_path: Path) -> None:
    with pytest.raises(RepositoryNotFoundError) as missing:
        api(hub).model_info("org/nope")
    assert not isinstance(missing.value, GatedRepoError)
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download("org/nope", "x.gguf", local_dir=tmp_path, endpoint=hub.url, token=False)
    with pytest.raises(RemoteEntryNotFoundError):
        download(hub, tmp_path, "nope.gguf")
    with pytest.raises(RevisionNotFoundError):
        api(hub).model_info(REPO, revision="v9")


def test_status_429_reaches_the_caller(hub: LocalHub) -> None:
    # model_info makes one request (no retry); list_models and downloads retry 429s themselves.
    hub.inject(Fault.STATUS, path=REPO, status=429, retry_after=7, times=None)
    with pytest.raises(HfHubHTTPError) as error:
        api(hub).model_info(REPO)
    assert error.value.response.status_code == 429
    assert error.value.response.headers["Retry-After"] == "7"
    hub.clear_faults()
    assert api(hub).model_info(REPO).id == REPO


def test_download_retries_a_failed_head_itself(hub: LocalHub, tmp_path: Path) -> None:
    hub.inject(Fault.STATUS, path=GGUF, status=500, times=1)
    assert sha256(download(hub, tmp_path).read_bytes()) == sha256(BLOB)
    heads = [r for r in hub.requests if r[0] == "HEAD" and r[1].endswith("/resolve/main/" + GGUF)]
    assert len(heads) == 2


def test_dropped_download_completes_but_restarts(hub: LocalHub, tmp_path: Path) -> None:
    # http_get keeps nothing of a dropped body under its 10 MB read chunk: it starts over.
    hub.inject(Fault.DROP, path=GGUF, after_bytes=1_000_000)
    assert sha256(download(hub, tmp_path).read_bytes()) == sha256(BLOB)
    assert hub.bytes_sent[GGUF] == len(BLOB) + 1_000_000


def test_wrong_bytes_change_the_sha256_not_the_size(hub: LocalHub, tmp_path: Path) -> None:
    hub.inject(Fault.WRONG_BYTES, path=GGUF, after_bytes=10)
    data = download(hub, tmp_path).read_bytes()
    assert len(data) == len(BLOB) and data[:10] == BLOB[:10] and sha256(data) != sha256(BLOB)


def test_slow_bodies_are_throttled(hub: LocalHub) -> None:
    hub.inject(Fault.SLOW, path=GGUF, bytes_per_second=100_000)
    started = time.monotonic()
    response = get_range(hf_hub_url(REPO, GGUF, endpoint=hub.url), "bytes=0-39999")
    assert response.content == BLOB[:40_000] and time.monotonic() - started >= 0.35


def test_stop_refuses_connections(hub: LocalHub) -> None:
    url = hub.url
    hub.stop()
    with pytest.raises(httpx2.ConnectError), httpx2.Client() as client:
        client.get(f"{url}/api/models")


def test_gguf_header_parses() -> None:
    header = gguf_header(
        "llama", name="T", block_count=2, context_length=8, embedding_length=16, head_count=4,
        head_count_kv=2, file_type=15, chat_template="{{ x }}",
    )  # fmt: skip
    meta = read_header(io.BytesIO(header)).metadata
    assert meta["general.architecture"] == "llama" and meta["llama.attention.head_count_kv"] == 2
    assert meta["tokenizer.chat_template"] == "{{ x }}" and len(header) % 32 == 0


def test_seed_repos_list_declared_sizes_and_headers_parse(hub: LocalHub) -> None:
    seeds = seed_repos()
    for repo_id, files in seeds.items():
        hub.add_listing_repo(repo_id, files)
    nano = "bartowski/nvidia_Llama-3.1-Nemotron-Nano-4B-v1.1-GGUF"
    q4 = "nvidia_Llama-3.1-Nemotron-Nano-4B-v1.1-Q4_K_M.gguf"
    sizes = {e.path: e.size for e in api(hub).list_repo_tree(nano, recursive=True)}
    assert sizes[q4] == 2_780_000_000 and len(sizes) == 24
    expected = {
        nano: ("llama", True),
        "Mungert/Llama-3.1-Nemotron-Nano-8B-v1-GGUF": ("llama", True),
        "bartowski/nvidia_AceReason-Nemotron-1.1-7B-GGUF": ("qwen2", True),
        "ThomasBaruzier/Llama-3.1-Minitron-4B-Width-Base-GGUF": ("llama", False),
    }
    assert set(seeds) == set(expected)
    for repo_id, (arch, has_template) in expected.items():
        name = sorted(seeds[repo_id])[0]
        response = get_range(hf_hub_url(repo_id, name, endpoint=hub.url), "bytes=0-65535")
        header = read_header(io.BytesIO(response.content))
        assert header.architecture == arch and (header.chat_template is not None) == has_template
        assert response.headers["Content-Range"].endswith(f"/{seeds[repo_id][name][0]}")


def test_listing_files_serve_any_range_of_a_huge_file(hub: LocalHub) -> None:
    size = 50 * 10**9
    hub.add_listing_repo("org/huge", {"Q8_0/huge-Q8_0-00001-of-00002.gguf": (size, b"GGUF")})
    url = hf_hub_url("org/huge", "Q8_0/huge-Q8_0-00001-of-00002.gguf", endpoint=hub.url)
    first = get_range(url, f"bytes={size - 100_000}-{size - 1}")
    assert first.status_code == 206 and len(first.content) == 100_000
    assert get_range(url, f"bytes={size - 50_000}-").content == first.content[50_000:]
    assert get_range(url, "bytes=0-3").content == b"GGUF"
