"""Where a file runs on a machine: the verdict the fit arithmetic (`recommend.py`) reaches.

Its own small module so that code which only shows a verdict (the UI's colours and words) does
not import the arithmetic, the Hub client and the hardware probes on the way to the first paint.
"""

from __future__ import annotations

from app.core._util.enums import TextEnum


class Fit(TextEnum):
    """Where a file runs on a machine."""

    GPU = "gpu"  # whole on the GPU
    PARTIAL = "partial"  # split: some layers on the GPU, the rest in RAM
    CPU = "cpu"
    # Too large for this computer alone; its layers shared with other computers' workers.
    WORKERS = "workers"
    TOO_LARGE = "too_large"
