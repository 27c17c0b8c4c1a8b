"""One home for errors: every error the core raises on purpose is defined in app.core.errors."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import app.core
from app.core import errors
from app.core.errors import (
    ConversationNotFoundError,
    HistoryError,
    HistoryFileError,
    MessageNotFoundError,
    ModelHeaderError,
    ModelNameTakenError,
    QuantdeskError,
)


def _core_modules() -> list[str]:
    return [
        info.name
        for info in pkgutil.walk_packages(app.core.__path__, prefix="app.core.")
        if not info.ispkg
    ]


def test_every_core_error_is_defined_in_errors_py() -> None:
    modules = _core_modules()
    assert "app.core.chat.history" in modules  # the walk reaches into the feature packages
    strays = []
    for name in modules:
        module = importlib.import_module(name)
        for attribute, value in vars(module).items():
            if not (inspect.isclass(value) and issubclass(value, BaseException)):
                continue
            if value.__module__ != name or name == "app.core.errors":
                continue  # imported from elsewhere, or already at home
            # A private class (`_HeaderCutShort`) is a signal between two functions of one
            # module: it never leaves it, so no caller ever has to find it.
            if attribute.startswith("_"):
                continue
            strays.append(f"{name}.{attribute}")
    assert strays == []


def test_every_public_error_is_a_quantdesk_error_and_a_builtin() -> None:
    for value in vars(errors).values():
        if not (inspect.isclass(value) and issubclass(value, Exception)):
            continue
        if value is QuantdeskError or value.__module__ != errors.__name__:
            continue
        assert issubclass(value, QuantdeskError), value
        builtins = [base for base in value.__mro__ if base.__module__ == "builtins"]
        # Something more telling than Exception itself, which a caller would never catch alone.
        # Exempt: a cancellation is no failure at all, and HistoryError is the heading of a
        # missing chat (a LookupError) and a failing file (an OSError) alike.
        if value not in (errors.ImportCancelledError, errors.BenchmarkCancelledError, HistoryError):
            assert builtins[0] not in (Exception, BaseException), value
        assert value.__name__.endswith("Error"), value


def test_a_missing_chat_or_message_is_a_lookup_not_a_disk_failure() -> None:
    for error in (ConversationNotFoundError(3), MessageNotFoundError(4)):
        assert isinstance(error, HistoryError)
        assert isinstance(error, LookupError)
        assert not isinstance(error, OSError)
    assert issubclass(HistoryFileError, OSError)


def test_a_header_error_names_the_repo_and_the_file() -> None:
    error = ModelHeaderError("header is cut short").located(
        repo_id="someone/Model-GGUF", path="sub/Model-Q4_K_M.gguf"
    )
    assert (error.repo_id, error.path) == ("someone/Model-GGUF", "sub/Model-Q4_K_M.gguf")
    assert str(error).startswith(
        "Can't read the model file Model-Q4_K_M.gguf in someone/Model-GGUF: header is cut short."
    )
    assert isinstance(error, ValueError)


def test_a_name_clash_is_not_called_a_file_that_cant_be_opened() -> None:
    error = ModelNameTakenError("/models/imported/Model.gguf")
    assert isinstance(error, FileExistsError)
    assert "Can't open" not in str(error)
    assert str(error).startswith("A model named Model.gguf was already imported.")
