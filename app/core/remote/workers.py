"""The workers a person added: their addresses, and what a probe found on each.

A probe contacts a worker in a child process (`python -m app __probe-worker ADDRESS`): the RPC
client aborts its process when a worker misbehaves, and the app must outlive that. Before the
child, a plain TCP connect with a short deadline says in one sentence why an address is unusable
(nothing listens there, no route, a name that doesn't resolve), so the common failures never
reach llama.cpp at all. Nothing is contacted that the person did not add.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import json
import logging
import os
import re
import socket
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core._util.cancel import CancelToken
from app.core.engine.rpc import DEFAULT_PORT, Device, RemoteLayers, held
from app.core.errors import ChildWorkError, RemoteWorkerError

log = logging.getLogger(__name__)

# Each worker's latest probe in this process, for those a split model loaded here holds.
_last_seen: dict[str, WorkerProbe] = {}

# The hidden command of `app/cli.py` that runs `probe_here` in a child.
PROBE_COMMAND = "__probe-worker"
# A worker on the same network answers a connect in milliseconds.
CONNECT_SECONDS = 3.0
# The child's whole probe: its start (imports, the engine's backends) and a few round trips.
PROBE_SECONDS = 60.0
# Round trips timed per probe (a device-memory query each); the median is kept.
ROUND_TRIPS = 7
# Once connected, a worker answers in milliseconds. One that stays silent is serving another
# computer (llama.cpp's RPC server serves one client at a time) or is another program (a web
# server waits for a request of its own): the probe child gives up after this long.
ANSWER_SECONDS = 5.0
# The probe child's exit status when the worker stayed silent.
SILENT_EXIT = 75


@dataclass(frozen=True)
class WorkerAddress:
    """A worker's address: a host name or IP address, and a port."""

    host: str
    port: int = DEFAULT_PORT

    @property
    def endpoint(self) -> str:
        """As llama.cpp's RPC backend takes it ("host:port", IPv6 in brackets)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def __str__(self) -> str:
        return self.endpoint


_URL_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


def parse_address(text: str) -> WorkerAddress:
    """ "192.168.1.20", "192.168.1.20:50052", "desk.local:6000", "[fe80::1]:50052".

    Raises:
        RemoteWorkerError: not a host with an optional port (the sentence gives an example).
    """
    # Copied from a browser or a chat: "http://192.168.1.20:50052/" names the same computer.
    cleaned = _URL_SCHEME.sub("", text.strip()).removesuffix("/")
    host, port_text = cleaned, ""
    if cleaned.startswith("["):  # [IPv6]:port
        host, _, rest = cleaned[1:].partition("]")
        port_text = rest.removeprefix(":")
    elif cleaned.count(":") == 1:
        host, port_text = cleaned.split(":")
    example = f"write it as an address and a port, like 192.168.1.20:{DEFAULT_PORT}"
    # A URL with a path, two words, or longer than any host name (253 characters, RFC 1035).
    if not host or len(host) > 253 or any(c.isspace() for c in cleaned) or "/" in cleaned:
        raise RemoteWorkerError(
            f"\u201c{cleaned[:80]}\u201d is not a computer's address: {example}"
        )
    try:
        port = int(port_text) if port_text else DEFAULT_PORT
    except ValueError:
        port = 0
    if not 0 < port < 65536:
        raise RemoteWorkerError(f"\u201c{port_text[:20]}\u201d is not a port number: {example}")
    with contextlib.suppress(ValueError):  # else a host name, kept as written
        host = str(ipaddress.ip_address(host))
    return WorkerAddress(host, port)


@dataclass(frozen=True)
class WorkerProbe:
    """What a worker offered when it was probed."""

    address: WorkerAddress
    devices: tuple[Device, ...]
    round_trip_seconds: float  # median of a few device-memory queries

    @property
    def free_bytes(self) -> int:
        return sum(device.free_bytes for device in self.devices)

    @property
    def total_bytes(self) -> int:
        return sum(device.total_bytes for device in self.devices)

    def as_json(self) -> dict[str, Any]:
        return {
            "address": self.address.endpoint,
            "devices": [device.as_json() for device in self.devices],
            "free_bytes": self.free_bytes,
            "total_bytes": self.total_bytes,
            "round_trip_ms": round(self.round_trip_seconds * 1000, 3),
        }


def check_reachable(address: WorkerAddress, *, timeout: float = CONNECT_SECONDS) -> None:
    """A plain TCP connect to the worker's port.

    Raises:
        RemoteWorkerError: why nothing can be reached there, in one sentence.
    """
    try:
        with socket.create_connection((address.host, address.port), timeout=timeout):
            return
    except socket.gaierror:
        reason = "no computer has that name on this network"
    except ConnectionRefusedError:
        reason = (
            "nothing is listening on that port: start `quantdesk worker` on that computer, "
            "or check the port"
        )
    except TimeoutError:
        reason = f"nothing answered within {timeout:g} seconds (a firewall, or the computer is off)"
    except OSError as exc:
        reason = f"it can't be reached ({exc.strerror or type(exc).__name__})"
    raise RemoteWorkerError(f"{address} can't be used: {reason}", address=str(address))


def probe(address: WorkerAddress, *, cancel: CancelToken | None = None) -> WorkerProbe:
    """Contact the worker (in a child): its devices, their free memory, the round-trip time.

    Raises:
        RemoteWorkerError: it can't be reached, or it answered but not as a worker of this
            engine's RPC protocol (another program on that port, another llama.cpp version).
    """
    from app.core._util.child import run_once

    seen = _last_seen.get(address.endpoint)
    if seen is not None and held(address.endpoint):
        return seen  # the model loaded here holds it: what it offered before that load
    check_reachable(address)
    try:
        out = run_once(
            [PROBE_COMMAND, address.endpoint],
            deadline_seconds=PROBE_SECONDS,
            cancel=cancel,
        )
    except ChildWorkError as failure:
        if failure.why == "stopped":
            raise
        if failure.returncode == SILENT_EXIT:
            raise RemoteWorkerError(
                f"{address} took the connection but didn't answer within "
                f"{ANSWER_SECONDS:.0f} s: it is busy with another computer (a worker serves one "
                "at a time), or the program there isn't `quantdesk worker`",
                address=str(address),
            ) from None
        detail = f" (llama.cpp said: {failure.last_line})" if failure.last_line else ""
        raise RemoteWorkerError(
            f"{address} answered, but not as a Quantdesk worker of this version{detail}",
            address=str(address),
        ) from None
    data = json.loads(out.strip().splitlines()[-1])
    found = WorkerProbe(
        address=address,
        devices=tuple(
            Device(d["name"], d["description"], d["free_bytes"], d["total_bytes"])
            for d in data["devices"]
        ),
        round_trip_seconds=float(data["round_trip_ms"]) / 1000,
    )
    _last_seen[address.endpoint] = found
    return found


def probe_here(args: list[str]) -> int:
    """The probe child: connect, list the devices, time a few round trips, print one JSON
    line. A worker that misbehaves aborts this process, not the app."""
    import ctypes

    from app.core.engine.ggml import ggml_libraries
    from app.core.engine.rpc import connect

    address = parse_address(args[0])
    base = ggml_libraries().base  # loaded before the clock starts: only the worker is timed
    silent = threading.Timer(ANSWER_SECONDS, _give_up_on_silence)
    silent.daemon = True
    silent.start()
    devices = connect(address.endpoint)
    free, total = ctypes.c_size_t(), ctypes.c_size_t()
    trips = []
    for _ in range(ROUND_TRIPS):
        started = time.perf_counter()
        base.ggml_backend_dev_memory(devices[0].handle, ctypes.byref(free), ctypes.byref(total))
        trips.append(time.perf_counter() - started)
    silent.cancel()
    trips.sort()
    print(
        json.dumps(
            {
                "devices": [device.as_json() for device in devices],
                "round_trip_ms": trips[len(trips) // 2] * 1000,
            }
        ),  # fmt: skip
        flush=True,
    )
    return 0


def _give_up_on_silence() -> None:
    """The worker took the connection and said nothing: end the probe child (the RPC client
    would wait for ever in a call Python can't interrupt)."""
    print("the worker didn't answer", file=sys.stderr, flush=True)
    os._exit(SILENT_EXIT)


def split_layers(
    layer_count: int, local_free_bytes: int, workers: tuple[WorkerProbe, ...]
) -> tuple[RemoteLayers, ...]:
    """Each worker's share of the model's `layer_count` repeating layers, in proportion to free
    memory, this computer's (`local_free_bytes`) included; this computer keeps the rest, and
    the output layer (llama.cpp offloads it only when every layer is offloaded)."""

    frees = [max(0, local_free_bytes)] + [max(0, worker.free_bytes) for worker in workers]
    total = sum(frees)
    if total == 0 or layer_count <= 0:
        return ()
    # Largest remainder: the shares add up to exactly `layer_count`.
    exact = [layer_count * free / total for free in frees]
    counts = [int(share) for share in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: exact[i] - counts[i], reverse=True)
    for index in by_remainder[: layer_count - sum(counts)]:
        counts[index] += 1
    return tuple(
        RemoteLayers(worker.address.endpoint, count)
        for worker, count in zip(workers, counts[1:], strict=True)
        if count > 0
    )


def probe_all(
    addresses: Sequence[str], *, cancel: CancelToken | None = None
) -> tuple[tuple[WorkerProbe, ...], list[RemoteWorkerError]]:
    """Probe each worker: (those that answered, why each of the others can't be used).
    A worker that can't be used is left out of the fit and the load, never fatal."""
    probes: list[WorkerProbe] = []
    left_out: list[RemoteWorkerError] = []
    for text in addresses:
        try:
            probes.append(probe(parse_address(text), cancel=cancel))
        except RemoteWorkerError as error:
            left_out.append(error)
    return tuple(probes), left_out


def answering_workers(addresses: Sequence[str]) -> tuple[WorkerProbe, ...]:
    """The workers of `addresses` that answer, probed, for a fit: one that doesn't is left
    out (logged; Settings → Other computers says why to the person)."""
    probes, left_out = probe_all(addresses)
    for error in left_out:
        log.info("worker left out of the fit: %s", error)
    return probes


def plan_split(
    addresses: Sequence[str],
    model: Path,
    *,
    kept_here_bytes: int = 0,
    cancel: CancelToken | None = None,
) -> tuple[tuple[RemoteLayers, ...], list[RemoteWorkerError]]:
    """Probe each worker and share `model`'s layers by free memory among this computer and
    those that answered: (their layers, why each of the others was left out). Nothing is
    contacted but `addresses`. The same for `quantdesk chat --worker` and the app's loads.

    `kept_here_bytes`: what this computer holds whatever its share (embeddings, the output
    layer, the compute scratch: `fit.recommend.kept_here_bytes`); its share of layers is
    counted in the memory left after that, as the fit counts it.
    """
    from app.core.engine.rpc import offered_devices
    from app.core.gguf.header import check_model_file

    probes, left_out = probe_all(addresses, cancel=cancel)
    header = check_model_file(model)
    layers = header.metadata.get(f"{header.architecture}.block_count")
    if not probes or not isinstance(layers, int):
        return (), left_out
    # This computer's memory in the same words as the workers' (llama.cpp's CPU device), so
    # that equal machines get equal shares.
    (cpu,) = offered_devices(["CPU"])
    return split_layers(layers, cpu.free_bytes - kept_here_bytes, probes), left_out


def network_address() -> str:
    """This computer's address on its network (where its default route leaves), the address
    another computer dials; 127.0.0.1 without a network. No packet is sent: connecting a UDP
    socket only chooses the route."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe_socket:
        try:
            probe_socket.connect(("192.0.2.1", 9))  # TEST-NET-1: never a real host
            return str(probe_socket.getsockname()[0])
        except OSError:
            return "127.0.0.1"


def check_can_listen(address: WorkerAddress) -> None:
    """Bind the worker's address for a moment, so that a taken port or a foreign address is a
    sentence before llama.cpp's server starts (it only prints and returns).

    Raises:
        RemoteWorkerError: the port is taken, or the address is not this computer's.
    """
    family = socket.AF_INET6 if ":" in address.host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((address.host, address.port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                reason = (
                    f"port {address.port} is taken by another program: choose another with --port"
                )
            else:
                reason = f"{address.host} is not an address of this computer"
            raise RemoteWorkerError(
                f"can't listen on {address}: {reason}", address=str(address)
            ) from None
