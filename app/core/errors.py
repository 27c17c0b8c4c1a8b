"""Every error Quantdesk raises on purpose.

Each error is a `QuantdeskError` and also the builtin a caller would naturally catch. Errors carry
the facts a screen needs (`path`, `reason`, ...) so the UI never parses message text; `str(error)`
is a complete sentence fit to show a person.
"""

from __future__ import annotations

from pathlib import Path


class QuantdeskError(Exception):
    """Base of every error Quantdesk raises on purpose."""

    def __init__(self, *args: object) -> None:
        super().__init__(*args)
        self._message = str(args[0]) if args else ""

    def __str__(self) -> str:
        # OSError subclasses would otherwise print "[Errno None] ..." for keyword-built errors.
        return self._message


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
    """The conversation no longer fits the model's context, with room left for a reply.

    Attributes:
        prompt_tokens: the size of the conversation as the model would read it.
        context_length: the model's context, in tokens.
        room: cells left for the reply (negative when the prompt alone is too long).
    """

    def __init__(self, prompt_tokens: int, context_length: int, *, room: int = 0) -> None:
        self.prompt_tokens = prompt_tokens
        self.context_length = context_length
        self.room = room
        super().__init__(
            f"This conversation is {prompt_tokens:,} tokens and the model's context holds "
            f"{context_length:,}, which leaves too little room for a reply. Leave out the oldest "
            "messages, start a new chat, or raise the context length."
        )


class EngineStateError(QuantdeskError, RuntimeError):
    """An engine call that needs a loaded model was made without one."""


# --- Hugging Face and downloads ------------------------------------------------------------------


class HubError(QuantdeskError, OSError):
    """Talking to Hugging Face failed."""

    def __init__(self, message: str, *, repo_id: str | None = None) -> None:
        self.repo_id = repo_id
        super().__init__(message)


class OfflineError(HubError):
    """Hugging Face can't be reached (no network, server down, or offline mode)."""


class ModelNotFoundError(HubError, LookupError):
    """The repo, revision or file doesn't exist on Hugging Face."""


class GatedModelError(ModelNotFoundError):
    """The repo is gated or private: it needs an accepted license and a token."""


class RateLimitedError(HubError):
    """Hugging Face asked us to slow down (HTTP 429)."""

    def __init__(self, message: str, *, repo_id: str | None = None, retry_after: float = 0) -> None:
        self.retry_after = retry_after
        super().__init__(message, repo_id=repo_id)


class DownloadError(QuantdeskError, OSError):
    """A download could not finish; what was already downloaded is kept unless said otherwise."""


class DownloadInterruptedError(DownloadError):
    """The connection kept failing; the partial file is kept and the download can resume."""


class DiskFullError(DownloadError):
    """Not enough free space on the models disk."""

    def __init__(self, message: str, *, needed_bytes: int, free_bytes: int) -> None:
        self.needed_bytes = needed_bytes
        self.free_bytes = free_bytes
        super().__init__(message)


class ChecksumMismatchError(DownloadError):
    """The downloaded bytes don't match the Hub's sha256; the bad copy was discarded."""

    def __init__(self, filename: str, *, expected: str, actual: str) -> None:
        self.filename = filename
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"Couldn't download {filename}: the downloaded bytes don't match Hugging Face's "
            f"checksum (expected sha256 {expected[:12]}…, got {actual[:12]}…). The bad copy was "
            "deleted; try again."
        )


class DownloadCancelledError(DownloadError):
    """The person cancelled the download; its partial file was removed."""


class UnsafePathError(QuantdeskError, ValueError):
    """A repo id or file name from the Hub would escape the models folder."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"Refusing the file name {name!r}: {reason}")


class ImportCancelledError(QuantdeskError):
    """The person (or closing the app) cancelled an import; nothing was added."""
