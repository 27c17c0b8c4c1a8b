"""Speed before download: bytes read per token over bandwidth, and the benchmarks that scale it."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import numpy as np
import pytest

from app.core.fit.memory import ModelShape
from app.core.fit.speed import (
    BANDWIDTH_FILE,
    Bandwidths,
    Calibration,
    SpeedBasis,
    SpeedMeasurement,
    SpeedRange,
    bytes_read_per_token,
    calibration_for,
    cpu_cost_factors,
    load_measurements,
    machine_key,
    measure_ram_bandwidth,
    predict_speed,
    predicted_seconds_per_token,
    ram_bandwidth,
    save_measurement,
    table_bandwidth,
    with_quant_types,
)
from app.core.gguf.header import check_model_file
from app.core.machine.hardware import CpuInfo, HardwareProfile

THIS = HardwareProfile("linux", CpuInfo("x86_64", "Test CPU", 2, ("avx2",)), 16 << 30, 8 << 30)


@pytest.fixture(scope="module")
def smol(tiny_model: Path) -> ModelShape:
    return ModelShape.from_header(check_model_file(tiny_model), tiny_model.stat().st_size)


def test_a_token_reads_every_layer_and_the_head_but_not_the_embedding_lookup(
    smol: ModelShape,
) -> None:
    on_gpu, in_ram = bytes_read_per_token(smol, 0)
    # SmolLM2's head is its embedding (tied): read whole as the head, once.
    assert smol.tied_output and on_gpu == 0
    assert in_ram == smol.layer_bytes * smol.layers + smol.embed_bytes
    # Split: the offloaded layers move to the GPU; the head stays in RAM until full offload.
    on_gpu, in_ram = bytes_read_per_token(smol, 10)
    assert on_gpu == 10 * smol.layer_bytes
    assert in_ram == 20 * smol.layer_bytes + smol.embed_bytes
    assert bytes_read_per_token(smol, smol.layers) == (
        smol.layer_bytes * smol.layers + smol.embed_bytes,
        0,
    )


def test_the_header_says_what_each_byte_a_token_reads_is_stored_as(smol: ModelShape) -> None:
    # SmolLM2 Q4_1: its layers' matrices are Q4_1, its tied head (the embedding) is Q8_0.
    assert smol.layer_types == (("Q4_1", 1.0),)
    assert (smol.head_type, smol.quant) == ("Q8_0", "Q4_1")
    # Kept through JSON (saved repo facts) as they were.
    assert ModelShape(**json.loads(json.dumps(smol.as_json()))) == smol


def test_another_quant_of_the_model_is_stored_as_its_label_says(smol: ModelShape) -> None:
    assert with_quant_types(smol, "Q4_1") is smol and with_quant_types(smol, None) is smol
    k_quant = with_quant_types(smol, "Q4_K_M")
    assert (k_quant.layer_types, k_quant.head_type) == ((("Q4_K", 1.0),), "Q6_K")
    eight_bit = with_quant_types(smol, "Q8_0")
    assert (eight_bit.layer_types, eight_bit.head_type) == ((("Q8_0", 1.0),), "Q8_0")


def test_on_a_cpu_a_byte_of_8_bit_weights_costs_less_than_one_of_4_bit(smol: ModelShape) -> None:
    # The same bytes stored as Q8_0 hold fewer weights, with a simpler kernel: a faster token.
    q8 = with_quant_types(smol, "Q8_0")
    q4 = with_quant_types(smol, "Q4_1")
    assert cpu_cost_factors(q8)[0] < 1.0 < cpu_cost_factors(q4)[0]
    bandwidths = Bandwidths(20.0)
    fast = predicted_seconds_per_token(q8, gpu_layers=0, backend=None, bandwidths=bandwidths)
    slow = predicted_seconds_per_token(q4, gpu_layers=0, backend=None, bandwidths=bandwidths)
    assert fast is not None and slow is not None and fast < slow
    # Before calibration the range also covers a CPU bound by its RAM alone (every byte alike).
    plain = dataclasses.replace(smol, layer_types=(), head_type="")
    plain_speed = predict_speed(plain, gpu_layers=0, backend=None, bandwidths=bandwidths)
    q8_speed = predict_speed(q8, gpu_layers=0, backend=None, bandwidths=bandwidths)
    assert plain_speed is not None and q8_speed is not None
    assert q8_speed.low == pytest.approx(plain_speed.low) and q8_speed.high > plain_speed.high
    # On a GPU every byte counts alike (the study's rows are per file, not per type).
    on_gpu = predicted_seconds_per_token(
        q8, gpu_layers=30, backend="cuda", bandwidths=Bandwidths(20.0, 400.0)
    )
    plain_gpu = predicted_seconds_per_token(
        plain, gpu_layers=30, backend="cuda", bandwidths=Bandwidths(20.0, 400.0)
    )
    assert on_gpu == plain_gpu


def test_a_mixture_of_experts_reads_only_its_used_experts(tmp_path: Path) -> None:
    import gguf

    path = tmp_path / "moe.gguf"
    writer = gguf.GGUFWriter(str(path), "qwen3moe")
    writer.add_block_count(1)
    writer.add_embedding_length(16)
    writer.add_head_count(1)
    writer.add_uint32("qwen3moe.expert_count", 8)
    writer.add_uint32("qwen3moe.expert_used_count", 2)
    writer.add_tensor("token_embd.weight", np.zeros((32, 16), dtype=np.float32))
    writer.add_tensor("blk.0.attn_q.weight", np.zeros((16, 16), dtype=np.float32))  # 1 KiB
    writer.add_tensor("blk.0.ffn_up_exps.weight", np.zeros((8, 16, 16), dtype=np.float32))  # 8 KiB
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    shape = ModelShape.from_header(check_model_file(path), path.stat().st_size)
    # 1 KiB dense + 8 KiB of experts x 2 / 8 used = 3 of the layer's 9 KiB.
    assert shape.active_layer_share == pytest.approx(1 / 3)
    # No output.weight: the embedding (2 KiB) is the head.
    assert bytes_read_per_token(shape, 0)[1] == 3 * 1024 + 2048


def test_before_calibration_a_range_that_halves_with_twice_the_bytes(smol: ModelShape) -> None:
    small = predict_speed(smol, gpu_layers=0, backend=None, bandwidths=Bandwidths(20.0))
    big = predict_speed(
        smol.with_file_size(4 * smol.weights_bytes),
        gpu_layers=0,
        backend=None,
        bandwidths=Bandwidths(20.0),
    )
    assert small is not None and big is not None
    assert small.basis is SpeedBasis.BANDWIDTH and small.low < small.high
    # 4x the bytes: slower, but less than 4x (the fixed cost per token stays).
    assert big.high < small.low
    assert 2.5 < (small.low + small.high) / (big.low + big.high) < 4
    # ~96 MB at 0.5-0.8 x 20 GB/s plus 0.5-2 ms: between 60 and 170 tokens/s.
    assert 60 < small.low < small.high < 170


def test_a_gpu_split_adds_each_devices_time(smol: ModelShape) -> None:
    both = Bandwidths(ram_gbps=20.0, gpu_gbps=448.0)
    full = predicted_seconds_per_token(
        smol, gpu_layers=smol.layers, backend="cuda", bandwidths=both
    )
    half = predicted_seconds_per_token(smol, gpu_layers=15, backend="cuda", bandwidths=both)
    cpu = predicted_seconds_per_token(smol, gpu_layers=0, backend=None, bandwidths=both)
    assert full is not None and half is not None and cpu is not None
    assert full < half < cpu
    # The RAM half dominates a split (the study: 30 of 35 units on the GPU ran at 30 % of full).
    assert half > 0.4 * cpu


def test_no_prediction_without_the_devices_bandwidth(smol: ModelShape) -> None:
    assert predict_speed(smol, gpu_layers=0, backend=None, bandwidths=Bandwidths(None)) is None
    on_unknown_gpu = predict_speed(
        smol, gpu_layers=smol.layers, backend="vulkan", bandwidths=Bandwidths(20.0, None)
    )
    assert on_unknown_gpu is None


def test_after_a_benchmark_the_range_is_plus_minus_ten_percent_around_it(smol: ModelShape) -> None:
    bandwidths = Bandwidths(20.0)
    predicted = predicted_seconds_per_token(smol, gpu_layers=0, backend=None, bandwidths=bandwidths)
    assert predicted is not None
    # The benchmark ran at half the predicted speed: later predictions are halved too.
    speed = predict_speed(
        smol,
        gpu_layers=0,
        backend=None,
        bandwidths=bandwidths,
        calibration=Calibration(2.0, "other.gguf"),
    )
    assert speed is not None and speed.basis is SpeedBasis.MEASURED
    middle = 1 / (2 * predicted)
    assert speed.low == pytest.approx(0.9 * middle) and speed.high == pytest.approx(1.1 * middle)


def test_speed_in_words_and_when_it_is_slow_to_read() -> None:
    assert SpeedRange(18.7, 24.0, SpeedBasis.BANDWIDTH).words() == (14, 18)  # 0.75 words a token
    assert SpeedRange(0.5, 0.9, SpeedBasis.BANDWIDTH).words() == (1, 1)
    assert SpeedRange(2.0, 3.0, SpeedBasis.MEASURED).slow_to_read
    assert SpeedRange(2.0, 5.0, SpeedBasis.BANDWIDTH).slow_to_read  # middle 3.2 t/s, 2.4 words/s
    assert not SpeedRange(3.0, 8.0, SpeedBasis.BANDWIDTH).slow_to_read  # 4.9 t/s, 3.7 words/s
    assert SpeedRange(12.34, 15.06, SpeedBasis.MEASURED).as_dict() == {
        "low": 12.3,
        "high": 15.1,
        "basis": "measured on this machine",
    }


@pytest.mark.parametrize(
    ("name", "gbps"),
    [
        ("NVIDIA GeForce RTX 4060 Ti", 288),  # not the RTX 4060's 272
        ("NVIDIA GeForce RTX 4060", 272),
        ("AMD Radeon RX 7900 XTX", 960),
        ("Apple M2 Pro", 200),
        ("Apple M2", 100),
        ("RTX 3070", 448),
        ("Some Unknown GPU 9000", None),
    ],
)
def test_gpu_bandwidth_by_name(name: str, gbps: float | None) -> None:
    assert table_bandwidth(name) == gbps


def test_ram_bandwidth_is_measured_quickly_and_once_per_machine(tmp_path: Path) -> None:
    started = time.perf_counter()
    measured = measure_ram_bandwidth(2)
    assert time.perf_counter() - started < 3  # "well under a second" on an idle machine
    assert 0.5 < measured < 2000
    first = ram_bandwidth(THIS, tmp_path)
    saved = json.loads((tmp_path / BANDWIDTH_FILE).read_text())
    assert saved["machine"] == machine_key(THIS) and saved["gbps"] == round(first, 2)
    # The saved figure is used as is (a marker value proves no new measurement ran) ...
    (tmp_path / BANDWIDTH_FILE).write_text(json.dumps({**saved, "gbps": 1234.5}))
    assert ram_bandwidth(THIS, tmp_path) == 1234.5
    # ... but not for another machine.
    other = dataclasses.replace(THIS, cpu=dataclasses.replace(THIS.cpu, model="Other CPU"))
    assert ram_bandwidth(other, tmp_path) != 1234.5
    # A RAM size corrected by hand is the same machine.
    assert machine_key(dataclasses.replace(THIS, ram_bytes=64 << 30)) == machine_key(THIS)


def measurement(**changes: object) -> SpeedMeasurement:
    base = SpeedMeasurement(
        machine="m1", backend="cpu", build="b1", file="a.gguf", file_size=100, gpu_layers=0,
        threads=2, prompt_tokens_per_second=500.0, generation_tokens_per_second=50.0,
        generation_tokens_per_second_deep=40.0, deep_depth=2048, time_to_first_token=1.0,
        prompt_tokens=512, predicted_seconds_per_token=0.01, measured_at=1.0,
    )  # fmt: skip
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_measurements_are_stored_per_machine_backend_build_and_file(tmp_path: Path) -> None:
    save_measurement(tmp_path, measurement())
    save_measurement(tmp_path, measurement(file="b.gguf", measured_at=2.0))
    save_measurement(tmp_path, measurement(generation_tokens_per_second=25.0, measured_at=3.0))
    runs = load_measurements(tmp_path)
    assert sorted((m.file, m.generation_tokens_per_second) for m in runs) == [
        ("a.gguf", 25.0),  # the same file measured again replaces the earlier run
        ("b.gguf", 50.0),
    ]
    # 25 tokens/s measured where 100 were predicted: predictions here take 4x as long.
    latest = calibration_for(runs, machine="m1", backend="cpu", build="b1")
    assert latest == Calibration(4.0, "a.gguf")
    assert calibration_for(runs, machine="m2", backend="cpu", build="b1") is None
    assert calibration_for(runs, machine="m1", backend="cuda", build="b1") is None
    assert calibration_for(runs, machine="m1", backend="cpu", build="b2") is None


def test_an_unreadable_store_is_no_measurements(tmp_path: Path) -> None:
    (tmp_path / "speed-measurements.json").write_text("{not json")
    assert load_measurements(tmp_path) == []
    save_measurement(tmp_path, measurement())  # and a new run replaces it
    assert len(load_measurements(tmp_path)) == 1
