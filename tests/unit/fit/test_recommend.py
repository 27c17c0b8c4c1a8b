"""The pick for a table of machines x the four seed repos, served by the local Hub."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.core.config.preferences import DEFAULT_CONTEXT
from app.core.engine.rpc import Device
from app.core.fit.reasons import explain, nothing_fits
from app.core.fit.recommend import (
    Fit,
    Goal,
    Option,
    Recommendation,
    header_file,
    local_fit,
    recommend,
)
from app.core.hub.client import RemoteFile
from app.core.machine.hardware import HardwareProfile
from app.core.remote.workers import WorkerAddress, WorkerProbe, split_layers
from tests.unit.fit.conftest import REPOS

GIB = 1 << 30
MIB = 1 << 20
AVX2 = ["avx", "avx2", "fma", "f16c"]


def machine(ram_gib: float, gpus: list[tuple[str, str, float]] = (), *, arch: str = "x86_64",
            features: list[str] = AVX2, unified: bool = False) -> HardwareProfile:  # fmt: skip
    return HardwareProfile.from_json({
        "os": "macos" if unified else "linux",
        "cpu": {"arch": arch, "model": "test", "cores": 8, "features": features},
        "ram_bytes": int(ram_gib * GIB),
        "unified_memory": unified,
        "gpus": [{"name": n, "backend": b, "vram_bytes": int(v * GIB)} for n, b, v in gpus],
    })  # fmt: skip


MACHINES = {
    "nv4": machine(16, [("RTX 3050 4GB", "cuda", 4)]),
    "nv8": machine(32, [("RTX 3070", "cuda", 8)]),
    "nv12": machine(32, [("RTX 3060 12GB", "cuda", 12)]),
    "nv24": machine(64, [("RTX 4090", "cuda", 24)]),
    "amd16": machine(32, [("RX 7800 XT", "rocm", 16)]),
    # Apple: Metal's share (recommendedMaxWorkingSetSize) is about 2/3 of RAM.
    "apple8": machine(
        8, [("Apple M1", "metal", 5.3)], arch="arm64", features=["neon", "dotprod"], unified=True
    ),
    "apple16": machine(
        16, [("Apple M2", "metal", 10.7)], arch="arm64", features=["neon", "dotprod"], unified=True
    ),
    "apple32": machine(
        32,
        [("Apple M2 Pro", "metal", 21.3)],
        arch="arm64",
        features=["neon", "dotprod", "i8mm"],
        unified=True,
    ),
    "cpu16avx2": machine(16),
    "cpu8noavx2": machine(8, features=["avx"]),
    "arm16": machine(16, arch="arm64", features=["neon", "dotprod"]),
    "tiny4": machine(4),
}
# (machine, repo): ((fastest quant, fit), (quality quant, fit)) at an 8,192-token context.
CONTEXT = 8192
EXPECTED = {
    ("nv4", "nano4b"): (("IQ3_XXS", "partial"), ("Q8_0", "partial")),
    ("nv8", "nano4b"): (("Q8_0", "gpu"), ("Q8_0", "gpu")),
    ("nv12", "nano4b"): (("Q8_0", "gpu"), ("Q8_0", "gpu")),
    ("nv24", "nano4b"): (("Q8_0", "gpu"), ("Q8_0", "gpu")),
    ("amd16", "nano4b"): (("Q8_0", "gpu"), ("Q8_0", "gpu")),
    ("apple8", "nano4b"): (("Q4_K_M", "gpu"), ("Q6_K", "partial")),
    ("apple16", "nano4b"): (("Q8_0", "gpu"), ("Q8_0", "gpu")),
    ("apple32", "nano4b"): (("Q8_0", "gpu"), ("Q8_0", "gpu")),
    ("cpu16avx2", "nano4b"): (("Q4_0", "cpu"), ("Q8_0", "cpu")),
    ("cpu8noavx2", "nano4b"): (("Q4_K_M", "cpu"), ("Q6_K", "cpu")),
    ("arm16", "nano4b"): (("Q4_0", "cpu"), ("Q8_0", "cpu")),
    ("tiny4", "nano4b"): (None, None),
    ("nv4", "nano8b"): (("IQ3_XS", "partial"), ("Q8_0", "partial")),
    ("nv8", "nano8b"): (("Q4_K", "gpu"), ("Q8_0", "partial")),
    ("nv12", "nano8b"): (("Q8_0", "gpu"), ("Q8_0", "gpu")),
    ("nv24", "nano8b"): (("Q8_0", "gpu"), ("Q8_0", "gpu")),
    ("amd16", "nano8b"): (("Q8_0", "gpu"), ("Q8_0", "gpu")),
    ("apple8", "nano8b"): (("IQ3_XS", "partial"), ("IQ3_M", "partial")),
    ("apple16", "nano8b"): (("Q8_0", "gpu"), ("Q8_0", "gpu")),
    ("apple32", "nano8b"): (("Q8_0", "gpu"), ("Q8_0", "gpu")),
    ("cpu16avx2", "nano8b"): (("Q4_0", "cpu"), ("Q8_0", "cpu")),
    ("cpu8noavx2", "nano8b"): (("IQ3_M", "cpu"), ("IQ3_M", "cpu")),
    ("arm16", "nano8b"): (("Q4_0", "cpu"), ("Q8_0", "cpu")),
    ("tiny4", "nano8b"): (None, None),
    ("nv4", "ace7b"): (("IQ3_XXS", "partial"), ("Q8_0", "partial")),
    ("nv8", "ace7b"): (("Q5_K_M", "gpu"), ("Q8_0", "partial")),
    ("nv12", "ace7b"): (("Q8_0", "gpu"), ("Q8_0", "gpu")),
    ("nv24", "ace7b"): (("Q8_0", "gpu"), ("Q8_0", "gpu")),
    ("amd16", "ace7b"): (("Q8_0", "gpu"), ("Q8_0", "gpu")),
    ("apple8", "ace7b"): (("Q3_K_S", "gpu"), ("Q4_K_M", "partial")),
    ("apple16", "ace7b"): (("Q8_0", "gpu"), ("Q8_0", "gpu")),
    ("apple32", "ace7b"): (("Q8_0", "gpu"), ("Q8_0", "gpu")),
    ("cpu16avx2", "ace7b"): (("Q4_0", "cpu"), ("Q8_0", "cpu")),
    ("cpu8noavx2", "ace7b"): (("Q4_K_M", "cpu"), ("Q4_K_M", "cpu")),
    ("arm16", "ace7b"): (("Q4_0", "cpu"), ("Q8_0", "cpu")),
    ("tiny4", "ace7b"): (None, None),
    ("nv4", "minitron"): (("IQ3_XXS", "partial"), ("Q8_0", "partial")),
    ("nv8", "minitron"): (("Q8_0", "gpu"), ("Q8_0", "gpu")),
    ("nv12", "minitron"): (("Q8_0", "gpu"), ("Q8_0", "gpu")),
    ("nv24", "minitron"): (("Q8_0", "gpu"), ("Q8_0", "gpu")),
    ("amd16", "minitron"): (("Q8_0", "gpu"), ("Q8_0", "gpu")),
    ("apple8", "minitron"): (("Q4_K_M", "gpu"), ("Q6_K", "partial")),
    ("apple16", "minitron"): (("Q8_0", "gpu"), ("Q8_0", "gpu")),
    ("apple32", "minitron"): (("Q8_0", "gpu"), ("Q8_0", "gpu")),
    ("cpu16avx2", "minitron"): (("Q4_0", "cpu"), ("Q8_0", "cpu")),
    ("cpu8noavx2", "minitron"): (("Q4_K_M", "cpu"), ("Q6_K", "cpu")),
    ("arm16", "minitron"): (("Q4_0", "cpu"), ("Q8_0", "cpu")),
    ("tiny4", "minitron"): (None, None),
}


def reasons(result: Recommendation, option: Option | None = None) -> list[str]:
    """The summary and details for `option` (the pick by default), in English."""
    chosen = option or result.pick
    assert chosen is not None
    return explain(result, chosen).lines()


def run(seed_hub: dict, machine_name: str, repo: str, goal: str) -> Recommendation:
    files, shape = seed_hub[repo]
    return recommend(REPOS[repo], files, shape, MACHINES[machine_name], goal=goal, context=CONTEXT)


@pytest.mark.parametrize(("machine_name", "repo"), sorted(EXPECTED))
def test_pick_for_machine_and_repo(seed_hub: dict, machine_name: str, repo: str) -> None:
    for goal, expected in zip(("fastest", "quality"), EXPECTED[(machine_name, repo)], strict=True):
        result = run(seed_hub, machine_name, repo, goal)
        got = (result.pick.quant, result.pick.fit) if result.pick else None
        assert got == expected, (goal, [(o.quant, o.fit, o.gpu_layers) for o in result.options])
        if result.pick:
            lines = reasons(result)
            assert all(line.endswith(".") for line in lines), lines
            assert "seed" not in " ".join(lines)  # the source is named in words, not a file number


def test_whole_on_gpu_reason_names_the_numbers(seed_hub: dict) -> None:
    pick = run(seed_hub, "nv8", "ace7b", "fastest").pick
    assert pick is not None and pick.quant == "Q5_K_M" and pick.gpu_layers == 28
    text = " ".join(reasons(run(seed_hub, "nv8", "ace7b", "fastest")))
    assert "Runs entirely on the RTX 3070" in text
    assert "file 5.1\u00a0GiB" in text and "8,192\u00a0tokens" in text and "CUDA runtime" in text
    assert "1\u00a0GiB llama.cpp leaves free on each GPU" in text
    assert "keeps about 99.26\u00a0%" in text


def test_an_8_gb_nvidia_card_runs_a_7b_model_at_4k_from_a_6_bit_file(seed_hub: dict) -> None:
    """The seeds' rule: fastest is the best file that runs whole on the GPU, 1-2 GB under its
    memory. AceReason-7B's Q6_K_L (6.52 GB) is 2 GB under an 8 GB card at 4,096 tokens; an
    estimate with twice llama.cpp's CUDA compute buffer starred Q5_K_M instead."""
    result = recommend(REPOS["ace7b"], *seed_hub["ace7b"], MACHINES["nv8"], context=4096)
    fits = {o.quant: o.fit for o in result.options}
    assert fits["Q6_K_L"] == Fit.GPU and fits["Q8_0"] != Fit.GPU
    assert result.pick is not None and result.pick.fit == Fit.GPU
    assert result.pick.quant in ("Q6_K", "Q6_K_L")  # same quality: the smaller file


def test_cuda_compute_buffer_is_llama_cpps_figure(seed_hub: dict) -> None:
    """A public llama.cpp log of Llama-3-8B at 4,096 tokens, fully on CUDA: `CUDA0 compute buffer
    size = 296.00 MiB` (the H100 measurements in docs/gpu-measurements.md read 300 MiB)."""
    _files, shape = seed_hub["nano8b"]  # Llama 3.1 8B's shape
    result = recommend(REPOS["nano8b"], *seed_hub["nano8b"], MACHINES["nv24"], context=4096)
    assert result.pick is not None and result.pick.estimate is not None
    assert shape.vocab == 128256 and result.pick.fit == Fit.GPU
    compute = result.pick.estimate.compute_gpu
    assert 296 * MIB <= compute <= 1.1 * 296 * MIB


def test_cpu_only_prefers_repacked_q4_0_and_k_quants(seed_hub: dict) -> None:
    pick = run(seed_hub, "cpu16avx2", "ace7b", "fastest").pick
    assert pick is not None
    text = " ".join(reasons(run(seed_hub, "cpu16avx2", "ace7b", "fastest")))
    assert "Q4_0: llama.cpp rearranges these weights at load time for AVX2 CPUs" in text
    assert "kept for the system and other apps" in text
    arm = run(seed_hub, "arm16", "ace7b", "fastest")
    assert arm.pick is not None and "ARM NEON" in " ".join(reasons(arm))
    # Without AVX2 there is no repacking: a K-quant, and the rule that chose it.
    plain = run(seed_hub, "cpu8noavx2", "ace7b", "fastest")
    assert plain.pick is not None and plain.pick.quant == "Q4_K_M"
    assert (
        "Q4_K_M is a K-quant: on the CPU, I-quants run slower than K-quants of a similar size"
        in (" ".join(reasons(plain)))
    )


def test_below_four_bits_on_cuda_an_i_quant(seed_hub: dict) -> None:
    pick = run(seed_hub, "nv4", "ace7b", "fastest").pick
    assert pick is not None and pick.quant == "IQ3_XXS" and pick.fit == "partial"
    assert "IQ3_XXS is an I-quant: below 4 bits on CUDA" in " ".join(
        reasons(run(seed_hub, "nv4", "ace7b", "fastest"))
    )
    # The same 4 GB on Metal: I-quants are slow there, so a K-quant.
    apple = run(seed_hub, "apple8", "ace7b", "fastest")
    assert apple.pick is not None and apple.pick.quant == "Q3_K_S"
    text = " ".join(reasons(apple))
    assert "Unified memory: the GPU may use" in text
    assert "Q3_K_S is a K-quant: with Metal, I-quants run slower" in text


def test_quality_splits_layers_between_gpu_and_ram(seed_hub: dict) -> None:
    result = run(seed_hub, "nv8", "ace7b", "quality")
    pick = result.pick
    assert pick is not None and pick.quant == "Q8_0" and pick.fit == "partial"
    assert 0 < pick.gpu_layers < 28
    assert f"{pick.gpu_layers} of 28\u00a0layers" in " ".join(reasons(result))


def test_nothing_fits_says_what_would(seed_hub: dict) -> None:
    result = run(seed_hub, "tiny4", "ace7b", "quality")
    assert result.pick is None
    assert all(option.fit == "too_large" for option in result.options)
    message = str(nothing_fits(result))
    assert "smallest, IQ2_M (2.6\u00a0GiB)" in message and "shorter context" in message


def test_unknown_quants_are_listed_never_picked(seed_hub: dict) -> None:
    files, shape = seed_hub["ace7b"]
    odd = [*files, RemoteFile(REPOS["ace7b"], "mystery-build.gguf", 1_000_000_000, None)]
    result = recommend(REPOS["ace7b"], odd, shape, MACHINES["nv24"], goal="fastest")
    mystery = next(o for o in result.options if o.files == ("mystery-build.gguf",))
    assert mystery.quant is None and mystery.quality is None and mystery.fit == "gpu"
    assert result.pick is not None and result.pick.quant == "Q8_0"


def test_shards_are_one_option_with_the_summed_size(seed_hub: dict) -> None:
    files, shape = seed_hub["ace7b"]
    shards = [
        RemoteFile(REPOS["ace7b"], f"Q8_0/big-Q8_0-0000{i}-of-00002.gguf", 50 * 10**9, None)
        for i in (1, 2)
    ]
    result = recommend(REPOS["ace7b"], [*files, *shards], shape, MACHINES["nv24"])
    option = next(o for o in result.options if len(o.files) == 2)
    assert option.size_bytes == 100 * 10**9 and option.fit == "too_large"


SMALL_GPU = machine(32, [("GeForce MX450", "cuda", 2)])


def test_a_gpu_too_small_for_any_layer_is_fastest_on_the_cpu(seed_hub: dict) -> None:
    for repo in REPOS:
        pick = run_on(seed_hub, SMALL_GPU, repo, "fastest").pick
        assert pick is not None and pick.fit == "cpu" and pick.quant == "Q4_0", repo  # not BF16
        result = run_on(seed_hub, SMALL_GPU, repo, "fastest")
        assert "on the CPU, smaller files give faster replies" in reasons(result)[1]
        assert "not even one layer fits the GeForce MX450" in " ".join(reasons(result))


def test_i_quant_swap_only_when_it_is_at_least_as_good(seed_hub: dict) -> None:
    tight = machine(6, [("GeForce MX450", "cuda", 2)])
    pick = run_on(seed_hub, tight, "nano4b", "quality").pick
    assert pick is not None
    k_alternatives = [o for o in run_on(seed_hub, tight, "nano4b", "quality").options
                      if o.fit != "too_large" and o.quality is not None]  # fmt: skip
    assert pick.quality == max(o.quality for o in k_alternatives)


def test_a_gpu_the_engine_cannot_use_is_not_budgeted(seed_hub: dict) -> None:
    data = MACHINES["nv8"].to_json()
    data["gpus"][0]["engine_usable"] = False  # NVML sees it; this engine build has no CUDA
    pick = run_on(seed_hub, HardwareProfile.from_json(data), "ace7b", "fastest").pick
    assert pick is not None and pick.fit == "cpu" and pick.quant == "Q4_0"


def test_header_file_skips_projectors_and_later_shards() -> None:
    files = [
        RemoteFile("o/r", "mmproj-model-f16.gguf", 10, None),
        RemoteFile("o/r", "Q8_0/m-Q8_0-00002-of-00002.gguf", 20, None),
        RemoteFile("o/r", "Q8_0/m-Q8_0-00001-of-00002.gguf", 30, None),
    ]
    chosen = header_file(files)
    assert chosen is not None and chosen.path == "Q8_0/m-Q8_0-00001-of-00002.gguf"


def test_a_file_without_a_quant_name_uses_its_header(seed_hub: dict) -> None:
    files, shape = seed_hub["ace7b"]
    plain = [RemoteFile(REPOS["ace7b"], "model.gguf", 4_680_000_000, None)]
    unnamed = recommend(REPOS["ace7b"], plain, shape, MACHINES["nv24"])
    assert unnamed.pick is None
    assert "names a quant Quantdesk knows" in str(nothing_fits(unnamed))
    named = recommend(
        REPOS["ace7b"], plain, shape, MACHINES["nv24"], header_quants={"model.gguf": "Q4_K_M"}
    )
    assert named.pick is not None and named.pick.quant == "Q4_K_M"


def run_on(seed_hub: dict, profile: HardwareProfile, repo: str, goal: str) -> Recommendation:
    files, shape = seed_hub[repo]
    return recommend(REPOS[repo], files, shape, profile, goal=goal, context=CONTEXT)


def test_the_default_context_is_the_preferences_default_capped_by_training(
    seed_hub: dict,
) -> None:
    files, shape = seed_hub["ace7b"]
    assert recommend(REPOS["ace7b"], files, shape, MACHINES["nv8"]).context == DEFAULT_CONTEXT
    longer = shape.trained_context * 2
    assert recommend(REPOS["ace7b"], files, shape, MACHINES["nv8"], context=longer).context == (
        shape.trained_context
    )


def test_options_and_picks_are_words_of_the_enums(seed_hub: dict) -> None:
    result = run(seed_hub, "nv8", "ace7b", "fastest")
    assert result.goal is Goal.FASTEST
    assert all(isinstance(option.fit, Fit) for option in result.options)
    assert result.pick is not None and result.pick in result.options
    # The stored words stay the same: JSON gets the plain values.
    assert json.loads(json.dumps(result.as_dict()))["pick"]["fit"] == "gpu"
    with pytest.raises(ValueError, match="goal must be one of fastest, quality"):
        recommend(REPOS["ace7b"], *seed_hub["ace7b"], MACHINES["nv8"], goal="smallest")


def worker(address: str, free_gib: float, round_trip_ms: float = 0.5) -> WorkerProbe:
    """What a probe of a worker found (the probe itself: tests/unit/remote)."""
    free = int(free_gib * GIB)
    host, port = address.split(":")
    return WorkerProbe(
        WorkerAddress(host, int(port)), (Device("RPC0", address, free, free),), round_trip_ms / 1000
    )


def test_a_file_too_large_here_is_split_across_other_computers_by_their_memory(
    seed_hub: dict,
) -> None:
    files, shape = seed_hub["ace7b"]
    alone = recommend(REPOS["ace7b"], files, shape, MACHINES["tiny4"], goal="quality", context=CONTEXT)  # fmt: skip
    assert alone.pick is None
    desk, laptop = worker("192.168.1.20:50052", 12), worker("192.168.1.21:50052", 6)
    shared = recommend(REPOS["ace7b"], files, shape, MACHINES["tiny4"], goal="quality",
                       context=CONTEXT, workers=(desk, laptop))  # fmt: skip
    pick = shared.pick
    assert pick is not None and pick.fit == Fit.WORKERS
    layers_on = pick.as_dict()["layers_on"]
    assert list(layers_on) == ["this computer", "192.168.1.20:50052", "192.168.1.21:50052"]
    assert sum(layers_on.values()) == shape.layers == 28
    # By free memory: the desk (12 GiB) takes about twice the laptop's (6 GiB) share.
    assert layers_on["192.168.1.20:50052"] > layers_on["192.168.1.21:50052"] > 0
    summary, *details = reasons(shared)
    assert "split across this computer and 192.168.1.20:50052, 192.168.1.21:50052" in summary
    assert any(line.startswith("Split across computers, by each one's free memory") for line in details)  # fmt: skip
    # A file that fits here alone is still picked over a split (every token pays the network).
    roomy = recommend(REPOS["ace7b"], files, shape, MACHINES["cpu16avx2"], goal="quality",
                      context=CONTEXT, workers=(desk, laptop))  # fmt: skip
    plain = recommend(REPOS["ace7b"], files, shape, MACHINES["cpu16avx2"], goal="quality", context=CONTEXT)  # fmt: skip
    assert roomy.pick is not None and plain.pick is not None
    assert (roomy.pick.quant, roomy.pick.fit) == (plain.pick.quant, plain.pick.fit)


def test_other_computers_too_small_leave_it_too_large(seed_hub: dict) -> None:
    files, shape = seed_hub["ace7b"]
    small = (worker("10.0.0.2:50052", 0.6), worker("10.0.0.3:50052", 0.6))
    result = recommend(REPOS["ace7b"], files, shape, MACHINES["tiny4"], goal="quality",
                       context=CONTEXT, workers=small)  # fmt: skip
    assert result.pick is None and all(o.fit == Fit.TOO_LARGE for o in result.options)


def test_a_split_predicts_the_networks_cost_on_every_token(seed_hub: dict) -> None:
    from app.core.fit.speed import Bandwidths, SpeedContext, option_speed

    files, shape = seed_hub["ace7b"]
    context = SpeedContext(Bandwidths(20.0), "test", "test")
    speeds = {}
    for round_trip_ms in (0.3, 3.0):
        workers = (worker("192.168.1.20:50052", 24, round_trip_ms),)
        result = recommend(REPOS["ace7b"], files, shape, MACHINES["tiny4"], goal="quality",
                           context=CONTEXT, workers=workers)  # fmt: skip
        assert result.pick is not None and result.pick.fit == Fit.WORKERS
        speed = option_speed(shape, result.pick, MACHINES["tiny4"], context)
        assert speed is not None
        speeds[round_trip_ms] = speed
        # Each token waits for the round trips on top of reading the layers.
        network = round_trip_ms / 1000  # one round trip per worker per token
        assert result.pick.network_seconds_per_token == pytest.approx(network)
    assert speeds[3.0].high < speeds[0.3].high and speeds[3.0].low < speeds[0.3].low


def test_a_model_on_disk_too_large_here_fits_across_a_computer_with_room(
    tiny_model: Path,
) -> None:
    """The Models page's badge: the tiny model (325 MiB at 4,096 tokens, 172 of them kept here
    in a split) on a computer with 250 MiB to spare."""
    small = machine((2e9 + 250 * MIB) / GIB)  # 2 GB kept for the system
    assert local_fit(tiny_model, small, context=DEFAULT_CONTEXT) == Fit.TOO_LARGE
    desk = worker("192.168.1.20:50052", 8)
    assert local_fit(tiny_model, small, context=DEFAULT_CONTEXT, workers=(desk,)) == Fit.WORKERS
    cramped = worker("192.168.1.21:50052", 0.6)  # its reserve leaves no room for the layers
    assert (
        local_fit(tiny_model, small, context=DEFAULT_CONTEXT, workers=(cramped,)) == Fit.TOO_LARGE
    )
    # A model that fits here alone stays here, whatever computers were added.
    roomy = machine(16)
    assert local_fit(tiny_model, roomy, context=DEFAULT_CONTEXT, workers=(desk,)) == Fit.CPU


def test_a_split_shares_the_layers_by_the_room_left_after_what_stays_here(
    tiny_model: Path,
) -> None:
    """The tiny model keeps 172 MiB here whatever its share (embeddings, output, scratch) and
    each of its 30 layers takes about 5 MiB. With 190 MiB to spare here and a 1 GiB worker, a
    share by raw free memory would keep 5 layers here (197 MiB: too large); a share by the room
    left after the 172 MiB keeps at most one, and fits. The load shares them the same way."""
    from app.core.fit.recommend import kept_here_bytes

    small = machine((2e9 + 190 * MIB) / GIB)
    desk = worker("192.168.1.20:50052", 1)
    assert local_fit(tiny_model, small, context=DEFAULT_CONTEXT) == Fit.TOO_LARGE
    assert local_fit(tiny_model, small, context=DEFAULT_CONTEXT, workers=(desk,)) == Fit.WORKERS
    kept = kept_here_bytes(tiny_model, context=DEFAULT_CONTEXT)
    assert 150 * MIB < kept < 200 * MIB
    (share,) = split_layers(30, 190 * MIB - kept, (desk,))
    assert share.layers >= 29
