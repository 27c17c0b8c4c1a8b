"""llama.cpp's own memory projection: a `no_alloc` dry run of a real file in a child process."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.engine.projection import Projection, parse_log, project_memory, write_stub
from app.core.errors import ChildWorkError
from app.core.gguf.header import check_model_file
from tests import models

MIB = 1 << 20


@pytest.fixture(scope="module")
def smollm2_at_4k() -> Projection:
    return project_memory(models.base_model(), context=4096)


def test_the_dry_run_reports_llama_cpps_own_buffers(smollm2_at_4k: Projection) -> None:
    projection = smollm2_at_4k
    assert (projection.context, projection.gpu_layers) == (4096, 0)
    # llama.cpp: "llama_kv_cache: size = 90.00 MiB (4096 cells, 30 layers, 1/1 seqs)".
    assert projection.kv_bytes == 90 * MIB
    assert projection.devices == {"CPU"}  # no GPU in this engine
    # As the engine's load reserves it: 512 rows of logits (49,152 x 4 B each) and more.
    assert projection.compute_bytes["CPU"] >= 512 * 49152 * 4
    # With one row of logits, as a chat asks: what is left is the attention step, the f32
    # scores of 9 heads and one mask over 4,096 cells for each of 512 batch tokens, and a little.
    scores = 4 * (9 + 1) * 4096 * 512
    assert scores <= projection.touched_compute_bytes["CPU"] <= scores + 8 * MIB
    assert projection.output_bytes["CPU"] > 0


def test_a_sparse_stub_of_the_header_projects_the_same(
    smollm2_at_4k: Projection, tmp_path: Path
) -> None:
    """What a remote file needs before download: its header's bytes and a hole to its size."""
    model = models.base_model()
    header = check_model_file(model)
    with model.open("rb") as stream:
        prefix = stream.read(header.data_offset)
    stub = write_stub(prefix, model.stat().st_size, tmp_path / "stub.gguf")
    assert stub.stat().st_size == model.stat().st_size
    assert stub.stat().st_blocks * 512 < 8 * MIB  # the hole takes no disk
    assert project_memory(stub, context=4096) == smollm2_at_4k


def test_a_file_llama_cpp_cannot_read_fails_in_the_child(tmp_path: Path) -> None:
    broken = models.broken_models(tmp_path)["random"]
    with pytest.raises(ChildWorkError):
        project_memory(broken, context=2048)


def test_the_log_lines_of_a_gpu_and_a_sliding_window_model_are_read() -> None:
    """This build's words on a CUDA machine and for gemma3's two caches (sliding and global)."""
    log = (
        "llama_kv_cache: size =   24.00 MiB (  8192 cells,   3 layers,  1/1 seqs), K (f16)\n"
        "llama_kv_cache: size =  120.00 MiB (  8192 cells,  15 layers,  1/1 seqs), K (f16)\n"
        "llama_context:  CUDA_Host  output buffer size =     1.00 MiB\n"
        "sched_reserve:      CUDA0 compute buffer size =   296.00 MiB\n"
        "sched_reserve:  CUDA_Host compute buffer size =    16.01 MiB\n"
    )
    assert parse_log(log) == {
        "kv_bytes": 144 * MIB,
        "compute_bytes": {"CUDA0": 296 * MIB, "CUDA_Host": round(16.01 * MIB)},
        "output_bytes": {"CUDA_Host": 1 * MIB},
    }
