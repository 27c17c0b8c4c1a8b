"""`quantdesk pull`, `models` and `rm` as a person runs them, against the local Hub."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.localhub import LocalHub

REPO = "tester/Tiny-GGUF"


def quantdesk(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})},
    )  # fmt: skip


def test_pull_models_rm(local_hub: LocalHub, tiny_model: Path, quantdesk_home: Path) -> None:
    local_hub.add_repo(REPO, {"tiny-Q4_1.gguf": tiny_model, "tiny-Q8_0.gguf": b"x" * 1000})
    pulled = quantdesk("pull", REPO, "--quant", "q4_1", "--json")
    assert pulled.returncode == 0, pulled.stderr
    report = json.loads(pulled.stdout)
    target = quantdesk_home / "models" / "tester" / "Tiny-GGUF" / "tiny-Q4_1.gguf"
    assert report == {
        "repo": REPO,
        "files": ["tiny-Q4_1.gguf"],
        "paths": [str(target)],
        "size_bytes": tiny_model.stat().st_size,
        "sha256_verified": True,
    }
    assert "93.8\u00a0MiB of 93.8\u00a0MiB" in pulled.stderr  # progress goes to stderr

    listed = quantdesk("models", "--json")
    assert json.loads(listed.stdout) == [
        {
            "path": str(target),
            "name": "Tiny",  # the repo's name, as the app shows it
            "repo": REPO,
            "quant": "Q4_1",
            "size_bytes": tiny_model.stat().st_size,
            "missing": False,
        }
    ]
    assert "Q4_1" in quantdesk("models").stdout

    # The downloaded model chats.
    chat = quantdesk("chat", str(target), "--prompt", "Hi", "--max-tokens", "4", "--json")
    assert chat.returncode == 0, chat.stderr

    removed = quantdesk("rm", "tiny-Q4_1.gguf")
    assert removed.returncode == 0, removed.stderr
    assert not target.exists()
    assert json.loads(quantdesk("models", "--json").stdout) == []
    missing = quantdesk("rm", "tiny-Q4_1.gguf")
    assert missing.returncode == 5
    assert "No local model" in missing.stderr


def test_pull_errors_are_one_line_with_named_codes(local_hub: LocalHub) -> None:
    local_hub.add_repo(REPO, {"tiny-Q4_K_M.gguf": b"x" * 1000})
    local_hub.add_repo(
        "tester/Gated-GGUF", {"g-Q4_K_M.gguf": b"x" * 1000}, gated=True, token="hf_t"
    )
    cases = [
        (("pull", "tester/Nope-GGUF", "--quant", "Q4_K_M"), 5, "doesn't exist"),
        (("pull", REPO, "--quant", "Q8_0"), 5, "Available: Q4_K_M"),
        (("pull", REPO, "--file", "nope.gguf"), 5, "has no file"),
        (("pull", "tester/Gated-GGUF", "--quant", "Q4_K_M"), 6, "gated"),
    ]
    for args, code, text in cases:
        result = quantdesk(*args)
        assert result.returncode == code, (args, result.stderr)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and text in lines[0], result.stderr
        assert "Traceback" not in result.stderr
    with_token = quantdesk(
        "pull", "tester/Gated-GGUF", "--quant", "Q4_K_M", env={"HF_TOKEN": "hf_t"}
    )
    assert with_token.returncode == 0, with_token.stderr


def test_offline_mode_says_so(local_hub: LocalHub) -> None:
    result = quantdesk("pull", REPO, "--quant", "Q4_K_M", env={"HF_HUB_OFFLINE": "1"})
    assert result.returncode == 7
    assert "Offline mode is on" in result.stderr


def test_pull_a_quant_in_another_spelling(local_hub: LocalHub, quantdesk_home: Path) -> None:
    # "fp16" is how many cards write F16; the file is named -f16.
    local_hub.add_repo(REPO, {"tiny-f16.gguf": b"f" * 1000, "tiny-Q8_0.gguf": b"x" * 1000})
    pulled = quantdesk("pull", REPO, "--quant", "fp16", "--json")
    assert pulled.returncode == 0, pulled.stderr
    assert json.loads(pulled.stdout)["files"] == ["tiny-f16.gguf"]
    missing = quantdesk("pull", REPO, "--quant", "fp32")
    assert missing.returncode == 5
    assert "has no F32 file. Available: F16, Q8_0." in missing.stderr
