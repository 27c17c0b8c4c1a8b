"""Other computers through llama.cpp's RPC backend: two real workers (`quantdesk worker`, the
engine's own RPC server, each with the CPU backend) on loopback addresses, probed, listed by
`quantdesk hw`, and a model split across this computer and both of them."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.engine.rpc import Device, RemoteLayers
from app.core.errors import RemoteWorkerError
from app.core.remote.workers import (
    WorkerAddress,
    WorkerProbe,
    check_can_listen,
    check_reachable,
    parse_address,
    probe,
    split_layers,
)
from tests.unit.test_cli import quantdesk

GIB = 1 << 30
START_SECONDS = 90  # a worker's start: Python, the engine's backends


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [
        ("192.168.1.20", "192.168.1.20", 50052),
        (" 192.168.1.20:6000 ", "192.168.1.20", 6000),
        ("desk.local:50053", "desk.local", 50053),
        ("[fe80::1]:50052", "fe80::1", 50052),
        ("[::1]", "::1", 50052),
        ("http://127.0.0.5:50052", "127.0.0.5", 50052),  # pasted as a link
        ("tcp://desk.local:6000/", "desk.local", 6000),
    ],
)
def test_an_address_is_a_host_and_a_port(text: str, host: str, port: int) -> None:
    address = parse_address(text)
    assert (address.host, address.port) == (host, port)
    assert parse_address(address.endpoint) == address  # written back the way llama.cpp reads it


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "is not a computer's address"),
        ("my desk", "is not a computer's address"),
        ("http://desk/v1", "is not a computer's address"),  # a web address, not a computer's
        ("desk:port", "“port” is not a port number"),
        ("desk:70000", "“70000” is not a port number"),
        ("d" * 10_000 + ":50052", "is not a computer's address"),  # longer than any host name
    ],
)
def test_a_bad_address_gets_a_sentence_with_an_example(text: str, says: str) -> None:
    with pytest.raises(RemoteWorkerError) as caught:
        parse_address(text)
    assert says in str(caught.value) and "192.168.1.20:50052" in str(caught.value)
    assert len(str(caught.value)) < 300  # the text typed is quoted, cut short


def worker_probe(host: str, free_gib: float) -> WorkerProbe:
    device = Device("RPC0", f"{host}:50052", int(free_gib * GIB), 32 * GIB)
    return WorkerProbe(WorkerAddress(host), (device,), 0.0002)


def test_layers_are_shared_by_free_memory_and_add_up() -> None:
    workers = (worker_probe("10.0.0.2", 8), worker_probe("10.0.0.3", 4))
    assert split_layers(32, 4 * GIB, workers) == (
        RemoteLayers("10.0.0.2:50052", 16),
        RemoteLayers("10.0.0.3:50052", 8),
    )
    # 30 layers over three equal shares; a worker with no room gets none.
    equal = (worker_probe("10.0.0.2", 1), worker_probe("10.0.0.3", 1))
    assert [w.layers for w in split_layers(30, GIB, equal)] == [10, 10]
    assert split_layers(30, GIB, (worker_probe("10.0.0.2", 0),)) == ()


def free_port(host: str) -> int:
    with socket.socket() as listener:
        listener.bind((host, 0))
        return int(listener.getsockname()[1])


def start_worker(host: str, port: int | None = None) -> tuple[subprocess.Popen[str], str]:
    port = port or free_port(host)
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "worker", "--host", host, "--port", str(port),
         "--threads", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    ends = time.monotonic() + START_SECONDS
    while time.monotonic() < ends:
        try:
            check_reachable(WorkerAddress(host, port), timeout=1)
            return process, f"{host}:{port}"
        except RemoteWorkerError:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            time.sleep(0.2)
    process.kill()
    raise AssertionError(f"the worker on {host}:{port} didn't start")


@pytest.fixture(scope="module")
def two_workers() -> Iterator[list[tuple[subprocess.Popen[str], str]]]:
    workers = [start_worker("127.0.0.2"), start_worker("127.0.0.3")]
    yield workers
    for process, _address in workers:
        process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()


def test_a_worker_says_where_to_add_it_what_it_offers_and_warns(
    two_workers: list[tuple[subprocess.Popen[str], str]],
) -> None:
    process, address = two_workers[0]
    assert process.stdout is not None
    lines = [process.stdout.readline() for _ in range(4)]
    assert lines[0].strip() == f"Quantdesk worker at {address}"
    assert f"--worker {address}" in lines[1]
    assert lines[2].startswith("Offers CPU (") and "free of" in lines[2]
    assert "no password and no encryption" in lines[3] and "network you trust" in lines[3]


def test_a_probe_lists_the_workers_memory_and_round_trip(
    two_workers: list[tuple[subprocess.Popen[str], str]],
) -> None:
    found = probe(parse_address(two_workers[1][1]))
    assert len(found.devices) == 1
    (device,) = found.devices
    assert device.description == two_workers[1][1]  # llama.cpp names a remote device by endpoint
    assert 0 < device.free_bytes <= device.total_bytes
    assert 0 < found.round_trip_seconds < 0.5


def test_hw_lists_the_workers_and_says_why_one_cant_be_used(
    two_workers: list[tuple[subprocess.Popen[str], str]],
) -> None:
    gone = f"127.0.0.4:{free_port('127.0.0.4')}"
    addresses = [address for _process, address in two_workers] + [gone]
    result = quantdesk("hw", "--json", *(f"--worker={a}" for a in addresses))
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)["workers"]
    assert [worker["address"] for worker in listed] == addresses
    for worker in listed[:2]:
        assert worker["total_bytes"] >= worker["free_bytes"] > 0
        assert worker["devices"][0]["free_bytes"] == worker["free_bytes"]
    assert "nothing is listening on that port" in listed[2]["error"]


def test_a_program_that_takes_the_connection_and_stays_silent_is_named_within_seconds() -> None:
    """A web server at the address (it waits for a request of its own, as a worker busy with
    another computer waits too): the probe says so once the worker's answer is overdue, not
    after the whole probe's minute."""
    from app.core.remote.workers import ANSWER_SECONDS

    host = "127.0.0.11"
    port = free_port(host)
    web = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", host],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        ends = time.monotonic() + 30
        while not _answers(host, port) and time.monotonic() < ends:
            time.sleep(0.1)
        started = time.monotonic()
        with pytest.raises(RemoteWorkerError) as refused:
            probe(parse_address(f"{host}:{port}"))
        took = time.monotonic() - started
    finally:
        web.kill()
        web.wait()
    assert f"{host}:{port} took the connection but didn't answer within 5 s" in str(refused.value)
    assert "busy with another computer" in str(refused.value)
    assert "isn't `quantdesk worker`" in str(refused.value)
    assert ANSWER_SECONDS <= took < ANSWER_SECONDS + 20  # the child's start, then 5 s


def _answers(host: str, port: int) -> bool:
    try:
        check_reachable(WorkerAddress(host, port), timeout=1)
        return True
    except RemoteWorkerError:
        return False


def test_a_split_reply_is_the_local_reply_token_for_token(
    two_workers: list[tuple[subprocess.Popen[str], str]], tiny_model: Path
) -> None:
    question = ("chat", str(tiny_model), "--prompt", "Name three colours.", "--temperature", "0",
                "--max-tokens", "24", "--json")  # fmt: skip
    local = quantdesk(*question)
    assert local.returncode == 0, local.stderr
    workers = [f"--worker={address}" for _process, address in two_workers]
    split = quantdesk(*question, *workers)
    assert split.returncode == 0, split.stderr
    here, there = json.loads(local.stdout), json.loads(split.stdout)
    assert here["layers"] == {"this computer": 30}
    # The same machine's RAM thrice: ten layers each, the output layer stays here.
    assert there["layers"] == {
        "this computer": 10, two_workers[0][1]: 10, two_workers[1][1]: 10
    }  # fmt: skip
    assert there["content"] == here["content"] and there["content"]
    assert there["completion_tokens"] == here["completion_tokens"]


def test_a_worker_the_loaded_model_holds_answers_from_its_last_probe(
    two_workers: list[tuple[subprocess.Popen[str], str]], tiny_model: Path, tmp_path: Path
) -> None:
    """A worker serves one computer at a time: while a split model loaded here holds it, a
    fit's probe (Discover, Models) gets what it offered before that load, at once, instead of
    waiting on it and leaving it out; once the model is gone, it is asked again."""
    from app.core.engine.engine import Engine
    from app.core.remote.workers import plan_split

    address = two_workers[0][1]
    remote, left_out = plan_split([address], tiny_model)  # probes it, as a load does
    assert remote and not left_out
    engine = Engine(load_checks=tmp_path / "checks.json")
    engine.load(tiny_model, context_length=512, remote=remote)
    try:
        started = time.monotonic()
        seen = probe(parse_address(address))
        assert time.monotonic() - started < 1  # no child started, nothing contacted
        assert seen.free_bytes > 0
    finally:
        engine.unload()
    assert probe(parse_address(address)) is not seen  # free again: asked afresh


def test_a_worker_that_is_gone_at_load_is_left_out_with_a_sentence(
    two_workers: list[tuple[subprocess.Popen[str], str]], tiny_model: Path
) -> None:
    gone = f"127.0.0.4:{free_port('127.0.0.4')}"
    result = quantdesk(
        "chat", str(tiny_model), "--prompt", "Hi", "--temperature", "0", "--max-tokens", "4",
        "--json", f"--worker={two_workers[0][1]}", f"--worker={gone}",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"left out: {gone} can't be used: nothing is listening on that port" in result.stderr
    layers = json.loads(result.stdout)["layers"]
    assert layers == {"this computer": 15, two_workers[0][1]: 15}


def test_a_port_taken_is_a_sentence_before_the_server_starts() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.2", 0))
        taken.listen()
        address = WorkerAddress("127.0.0.2", taken.getsockname()[1])
        with pytest.raises(RemoteWorkerError, match="is taken by another program"):
            check_can_listen(address)
    result = quantdesk("worker", "--host", "192.0.2.1", "--port", "50052")
    assert result.returncode == 14
    assert "192.0.2.1 is not an address of this computer" in result.stderr


def test_a_worker_killed_mid_reply_ends_the_reply_with_a_sentence_and_keeps_the_text(
    tiny_model: Path,
) -> None:
    """llama.cpp's RPC client aborts the process that holds a split model when a worker goes
    away mid-step: the split model lives in a child, so the reply ends with a sentence, the
    text written so far stays (the local greedy reply's beginning), and the program exits
    with its worker code instead of dying."""
    question = ("chat", str(tiny_model), "--prompt", "Write a long story about a dragon.",
                "--temperature", "0", "--max-tokens", "150")  # fmt: skip
    local = quantdesk(*question, timeout=600)
    assert local.returncode == 0, local.stderr
    worker, address = start_worker("127.0.0.5")
    chat = subprocess.Popen(
        [sys.executable, "-m", "app", *question, f"--worker={address}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert chat.stdout is not None
        shown = "".join(chat.stdout.read(1) for _ in range(20))  # the reply is streaming
        worker.kill()
        worker.wait()
        rest, stderr = chat.communicate(timeout=600)
    finally:
        for process in (worker, chat):
            if process.poll() is None:
                process.kill()
            process.wait()
            if process.stdout is not None:
                process.stdout.close()
    assert chat.returncode == 14, stderr
    assert (
        f"The reply stopped here: the computer at {address} stopped answering. "
        "What was written is kept; load the model again to go on without it."
    ) in stderr
    written = (shown + rest).strip()
    assert len(written) >= 20 and local.stdout.startswith(written)
    assert len(written) < len(local.stdout.strip())  # it did stop early


def test_recommend_counts_the_workers_memory_for_a_file_too_large_here(
    two_workers: list[tuple[subprocess.Popen[str], str]], tmp_path: Path
) -> None:
    """A 4 GiB computer can't hold a 7B model; with the two workers' memory it can: the pick
    says where its layers go, and its speed includes the measured round trips."""
    from tests.unit.test_cli_recommend import REPO, dead_endpoint

    hardware = tmp_path / "small.json"
    hardware.write_text(json.dumps({
        "os": "linux",
        "cpu": {"arch": "x86_64", "model": "test", "cores": 4, "features": ["avx", "avx2"]},
        "ram_bytes": 4 * GIB, "unified_memory": False, "gpus": [],
    }))  # fmt: skip
    ask = [sys.executable, "-m", "app", "recommend", REPO, "--hardware", str(hardware), "--goal",
           "quality", "--json"]  # fmt: skip
    env = {**os.environ, "HF_ENDPOINT": dead_endpoint()}  # the curated facts ship with the app
    alone = subprocess.run(ask, capture_output=True, text=True, timeout=120, env=env)
    assert alone.returncode == 0, alone.stderr
    assert json.loads(alone.stdout)["pick"] is None
    workers = [f"--worker={address}" for _process, address in two_workers]
    shared = subprocess.run([*ask, *workers], capture_output=True, text=True, timeout=300, env=env)
    assert shared.returncode == 0, shared.stderr
    pick = json.loads(shared.stdout)["pick"]
    assert pick["fit"] == "workers"
    layers = pick["layers_on"]
    assert set(layers) == {"this computer", *(address for _p, address in two_workers)}
    assert sum(layers.values()) == 28 and all(count > 0 for count in layers.values())
    assert "split across this computer and" in pick["summary"]


def test_hw_lists_the_computers_added_in_the_app(
    two_workers: list[tuple[subprocess.Popen[str], str]],
) -> None:
    from app.core.config.preferences import Preferences, save_preferences
    from app.core.paths import app_paths

    addresses = tuple(address for _process, address in two_workers)
    save_preferences(app_paths().ensure().config, Preferences(workers=addresses))
    result = quantdesk("hw", "--json")
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)["workers"]
    assert [worker["address"] for worker in listed] == list(addresses)
    assert all(worker["free_bytes"] > 0 for worker in listed)
