"""Every error Quantdesk raises on purpose.

Each error is a `QuantdeskError` and also the builtin a caller would naturally catch. Errors carry
the facts a screen needs (`path`, `reason`, ...) so the UI never parses message text; `str(error)`
is a complete sentence fit to show a person.
"""

from __future__ import annotations

from pathlib import Path


class QuantdeskError(Exception):
    """Base of every error Quantdesk raises on purpose."""


# --- model files ---------------------------------------------------------------------------------


class ModelFileError(QuantdeskError, ValueError):
    """A model file can't be used: missing, not a GGUF, cut short, or corrupt.

    Attributes:
        path: the file.
        reason: what is wrong with it, in plain words ("file is truncated: 40.0 MB of 98.4 MB").
    """

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"Can't open {self.path.name}: {reason}")


class ModelLoadError(QuantdeskError, RuntimeError):
    """llama.cpp refused a file that passed our own checks (e.g. an unsupported architecture)."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"Can't load {self.path.name}: {reason}")


# --- chat ----------------------------------------------------------------------------------------


class ChatTemplateError(QuantdeskError, ValueError):
    """The model's chat template is invalid or tried something the sandbox forbids."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"The model's chat template can't be used: {reason}")


class ContextOverflowError(QuantdeskError, ValueError):
    """The conversation no longer fits the model's context."""

    def __init__(self, prompt_tokens: int, context_length: int) -> None:
        self.prompt_tokens = prompt_tokens
        self.context_length = context_length
        super().__init__(
            f"The conversation is {prompt_tokens} tokens, more than the model's context of "
            f"{context_length}. Start a new chat or raise the context length."
        )


class EngineStateError(QuantdeskError, RuntimeError):
    """An engine call that needs a loaded model was made without one."""
