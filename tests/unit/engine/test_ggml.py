"""The one libggml loader: it opens the copy libllama links against, never a second one."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from app.core.engine.ggml import ggml_libraries, linked_library_names, llama_lib_folder


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/self/maps")
def test_the_loader_opens_the_linked_copy_and_no_other() -> None:
    libs = ggml_libraries()
    assert libs.folder == llama_lib_folder()
    opened = Path(libs.ggml._name)
    assert opened.parent == libs.folder and opened.name in linked_library_names("ggml")
    assert Path(libs.base._name).name in linked_library_names("ggml-base")
    maps = Path("/proc/self/maps").read_text(encoding="utf-8").splitlines()
    mapped = {
        os.path.realpath(line.split()[-1])
        for line in maps
        if line.split()[-1].startswith("/") and Path(line.split()[-1]).name.startswith("libggml.")
    }
    assert mapped == {os.path.realpath(opened)}  # one registry: libllama's and ours
