"""Every error Quantdesk raises on purpose, grouped under headings by what failed.

Each error is a `QuantdeskError` and also the builtin a caller would naturally catch. Errors carry
the facts a screen needs (`path`, `reason`, ...) so the UI never parses message text; `str(error)`
is a complete sentence fit to show a person. A `QuantdeskError` is the environment's doing (a bad
file, a full disk, the network, a locked database): the UI shows its sentence. Any other exception
is our bug and takes the crash path (logged with its traceback, shown with the log's path).
`tests/unit/test_errors.py` checks that no core module defines an error of its own. (Private
control-flow exceptions, `_DeadlinePassed` and the like, never leave their module and stay there.)
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
        reason: what is wrong with it, in plain words ("file is truncated: 38.1 MiB of 93.8 MiB").
    """

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"Can't open {self.path.name}: {reason}")


class ModelHeaderError(QuantdeskError, ValueError):
    """A GGUF file's header can't be read as a model: not a GGUF, cut short, corrupt, or it lacks
    the facts a fit needs (architecture, layers).

    Attributes:
        reason: what is wrong, in plain words ("header is cut short: ...").
        repo_id: the Hugging Face repo holding the file, when the file is remote.
        path: the file (its path in the repo, or on disk), when known.
    """

    def __init__(
        self, reason: str, *, repo_id: str | None = None, path: str | Path | None = None
    ) -> None:
        self.reason = reason
        self.repo_id = repo_id
        self.path = None if path is None else str(path)
        if path is not None and repo_id:
            where = f"{Path(path).name} in {repo_id}"
        elif path is not None:
            where = Path(path).name
        else:
            where = "this model file"
        super().__init__(
            f"Can't read the model file {where}: {reason}. The file may be damaged or not a "
            "llama.cpp model; pick another file or repo."
        )

    def located(self, *, repo_id: str | None, path: str | Path) -> ModelHeaderError:
        """The same error, naming the file it came from (the parser only sees bytes)."""
        return ModelHeaderError(self.reason, repo_id=repo_id, path=path)


class ModelNameTakenError(QuantdeskError, FileExistsError):
    """An imported model would take the name of one already imported; nothing was copied.

    Attributes:
        path: where the model would have gone (in the models folder).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        super().__init__(
            f"A model named {self.path.name} was already imported. Rename the file before "
            "importing it, or remove the imported one first."
        )


class ModelLoadError(QuantdeskError, RuntimeError):
    """llama.cpp refused a file that passed our own checks (e.g. an unsupported architecture)."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"Can't load {self.path.name}: {reason}")


class LoadMemoryError(ModelLoadError, MemoryError):
    """llama.cpp couldn't allocate what a load needs: its context (KV cache and scratch) at
    `context` tokens, or, with `gpu_layers` layers on a GPU, room there. The file itself is
    sound (it passed the first-load check), so fewer GPU layers or a shorter context can work."""

    def __init__(
        self,
        path: str | Path,
        *,
        context: int,
        gpu_layers: int,
        suggested_context: int | None = None,
    ) -> None:
        self.context = context
        self.gpu_layers = gpu_layers
        # The longest context that fits the RAM free now (a shorter one to offer), if any.
        self.suggested_context = suggested_context
        where = (
            f"the GPU had no room for {gpu_layers} layers and a {context:,}-token context"
            if gpu_layers
            else f"not enough memory for a {context:,}-token context"
        )
        super().__init__(path, where)


# --- this machine --------------------------------------------------------------------------------


class HardwareFileError(QuantdeskError, ValueError):
    """A machine description (`quantdesk hw --json`'s output, given to `recommend --hardware`)
    is missing a field or holds a wrong one; the message names it."""


# --- chat ----------------------------------------------------------------------------------------


class ChatTemplateError(QuantdeskError, ValueError):
    """The model's chat template is invalid or tried something the sandbox forbids."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"The model's chat template can't be used: {reason}")


class TemplateBudgetError(ChatTemplateError):
    """The chat template ran past its time or memory budget (a runaway or hostile template)."""


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


class BenchmarkCancelledError(QuantdeskError):
    """The person (or closing the app) stopped a speed benchmark; nothing was stored."""


class EngineStateError(QuantdeskError, RuntimeError):
    """An engine call that needs a loaded model was made without one."""


# --- chat history --------------------------------------------------------------------------------


class HistoryError(QuantdeskError):
    """The chat history can't do what was asked; the GUI shows the sentence and keeps going.

    Attributes:
        path: the database file (or the folder meant to hold it), when known.
        reason: why, with the next step, for a screen that says what it was doing itself
            ("Couldn't save the chat: the disk is full. Free some space..."); else the message.
    """

    def __init__(self, message: str, *, path: Path | None = None, reason: str = "") -> None:
        self.path = path
        self.reason = reason or message
        super().__init__(message)


class HistoryFileError(HistoryError, OSError):
    """The history file can't be read or written: a full disk, a lock held by another program,
    a folder that can't be written, or a file from a newer Quantdesk."""


class CorruptHistoryError(HistoryFileError):
    """The history file is not a database or is damaged; `open_chat_store` moves it aside and
    salvages what it can still read into a new one."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(
            f"The chat history file {path} is damaged: {reason}.", path=path, reason=reason
        )


class ConversationNotFoundError(HistoryError, LookupError):
    """No chat has this id (it was deleted, perhaps by another window or thread)."""

    def __init__(self, conversation_id: int) -> None:
        self.conversation_id = conversation_id
        super().__init__(f"Chat {conversation_id} no longer exists; it may have been deleted.")


class MessageNotFoundError(HistoryError, LookupError):
    """No message has this id (its chat was deleted, or it was cut by Regenerate or Edit)."""

    def __init__(self, message_id: int) -> None:
        self.message_id = message_id
        super().__init__(f"Message {message_id} no longer exists; it may have been deleted.")


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
        # A name from the Hub may be long or hold terminal escapes: repr escapes them (ESC as
        # \x1b, U+202E as \u202e) and the name is clipped to a line.
        shown = name if len(name) <= 200 else name[:199] + "…"
        super().__init__(f"Refusing the file name {shown!r}: {reason}")


class ImportCancelledError(QuantdeskError):
    """The person (or closing the app) cancelled an import; nothing was added."""


# --- models folder -------------------------------------------------------------------------------


class MoveFolderError(QuantdeskError, OSError):
    """The models folder can't be moved there (the sentence says why); nothing was moved."""


class MoveCancelledError(MoveFolderError):
    """The move was cancelled; each file is complete in one of the two folders.

    Attributes:
        moved_files, moved_bytes: what already reached the new folder.
    """

    def __init__(self, message: str, *, moved_files: int, moved_bytes: int) -> None:
        self.moved_files = moved_files
        self.moved_bytes = moved_bytes
        super().__init__(message)


# --- keychain ------------------------------------------------------------------------------------


class KeychainError(QuantdeskError, OSError):
    """No usable keychain, or it refused to store, read or delete the token."""


# --- engine packs --------------------------------------------------------------------------------


class EnginePackError(QuantdeskError, OSError):
    """An engine pack can't be listed, downloaded or installed; the message says why."""


# --- other computers ---------------------------------------------------------------------------


class RemoteWorkerError(QuantdeskError, OSError):
    """Another computer's worker (`quantdesk worker`) can't be used: a bad address, nothing
    answers there, it answers in another protocol, or it went away. The message says which.

    Attributes:
        address: the worker's "host:port" as the person gave it ("" when not about one worker).
    """

    def __init__(self, message: str, *, address: str = "") -> None:
        super().__init__(message)
        self.address = address


# --- the local API server ------------------------------------------------------------------------


class ApiError(QuantdeskError, RuntimeError):
    """A request to the local API server refused; `status` is the HTTP status it is answered
    with, and `str(error)` the message the client reads."""

    status = 400
    kind = "invalid_request_error"  # the error's type, as OpenAI and Anthropic clients read it


class ApiRequestError(ApiError, ValueError):
    """A request the server can't serve as written: malformed JSON, a missing or wrong field."""


class ApiBodyTooLargeError(ApiError, ValueError):
    """A request body over the server's limit."""

    status = 413

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"The request body is over the limit of {limit:,} bytes.")


class ApiAuthError(ApiError):
    """A request without the server's API key, or with another key."""

    status = 401
    kind = "authentication_error"


class ApiHostError(ApiError):
    """A request whose Host header names neither the server nor this computer (DNS rebinding)."""

    status = 403
    kind = "permission_error"

    def __init__(self, host: str) -> None:
        self.host = host
        super().__init__(
            f"Requests for the host {host!r} are refused: the server answers only requests "
            "addressed to it or to localhost."
        )


class ApiModelNotFoundError(ApiError, LookupError):
    """A request names a model the library doesn't have; `available` lists the ones it has."""

    status = 404
    kind = "not_found_error"

    def __init__(self, name: str, available: list[str]) -> None:
        self.name = name
        self.available = available
        listed = ", ".join(available) if available else "none: add one in Quantdesk first"
        super().__init__(f"No model {name!r} in the library. The library's models: {listed}.")


class ApiBusyError(ApiError):
    """The server's queue is full; `retry_after` is how many seconds to wait before trying again."""

    status = 429
    kind = "rate_limit_error"

    def __init__(self, waiting: int, retry_after: int) -> None:
        self.waiting = waiting
        self.retry_after = retry_after
        super().__init__(
            f"The server is busy: {waiting} requests are already waiting for the model. "
            f"Try again in {retry_after} s."
        )


class ApiBindError(QuantdeskError, OSError):
    """The server can't listen where it was asked (the port is taken, or an address other than
    this computer's own was asked for without an API key); the message says which."""


# --- child processes (internal: always translated into one of the errors above) ---------------


class ChildWorkError(QuantdeskError, RuntimeError):
    """A child's work did not end with an answer.

    Attributes:
        why: "timeout" (past its deadline, killed), "stopped" (cancelled, killed) or "died"
            (it exited by itself: an abort, a crash, or its memory limit).
        last_line: the last meaningful line it printed on stderr ("" when none).
    """

    def __init__(self, why: str, last_line: str = "", returncode: int | None = None) -> None:
        self.why = why
        self.last_line = last_line
        self.returncode = returncode  # its exit status, when it exited by itself
        super().__init__(f"child {why}" + (f": {last_line}" if last_line else ""))
