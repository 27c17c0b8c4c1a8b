"""Chat history, kept in one SQLite file.

Every write commits at once, so a process killed at any moment (even mid-reply) keeps all it had
written; the next open marks a reply that was still streaming as "interrupted" and keeps its text.
The file is in WAL mode so the GUI thread can read while the engine thread writes: each thread
opens its own `ChatStore` on the same file (a connection is only usable on its own thread).

`open_chat_store` is what the app calls: it also checks the file's integrity and, if the file is
damaged, moves it aside (never deletes it) and starts a fresh one with every chat and message that
can still be read from it, row by row. `open_readable_copy` does the same for a file that can be
read but not written (read-only, a full disk, a lock held by another program), into a copy.

Text is read with bad UTF-8 bytes replaced ("\ufffd"), never refused: one damaged byte in a
message must not make its chat, or the whole history, unreadable.
"""

from __future__ import annotations

import enum
import json
import logging
import os
import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from app.core._util.enums import TextEnum
from app.core._util.files import moved_path
from app.core.errors import (
    ConversationNotFoundError,
    CorruptHistoryError,
    HistoryError,
    HistoryFileError,
    MessageNotFoundError,
)

SCHEMA_VERSION = 2
DEFAULT_TITLE = "New chat"
ROLES = ("system", "user", "assistant")


class MessageState(TextEnum):
    """Where a stored message stands; the value is what the `state` column holds."""

    COMPLETE = "complete"
    STREAMING = "streaming"  # a reply being written (or left so by a killed process)
    STOPPED = "stopped"  # the person stopped the reply; its text so far is kept
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # the app closed or was killed during the reply


STATES = tuple(MessageState)
BUSY_TIMEOUT_MS = 5000

log = logging.getLogger(__name__)

_SCHEMA = (
    # AUTOINCREMENT: ids are never reused, so a thread still holding the id of a deleted chat or
    # message can't write into a newer one that took its place.
    """CREATE TABLE IF NOT EXISTS conversations (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        title TEXT NOT NULL,
        system_prompt TEXT NOT NULL DEFAULT '',
        settings TEXT NOT NULL DEFAULT '{}',
        thinking TEXT,
        model_path TEXT,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        role TEXT NOT NULL,
        content TEXT NOT NULL DEFAULT '',
        reasoning TEXT NOT NULL DEFAULT '',
        reasoning_seconds REAL,
        state TEXT NOT NULL DEFAULT 'complete',
        model_path TEXT,
        settings TEXT NOT NULL DEFAULT '{}',
        stats TEXT NOT NULL DEFAULT '{}',
        created_at REAL NOT NULL,
        version_of INTEGER,
        hidden INTEGER NOT NULL DEFAULT 0
    )""",
    "CREATE INDEX IF NOT EXISTS conversations_by_update ON conversations(updated_at)",
    "CREATE INDEX IF NOT EXISTS messages_by_conversation ON messages(conversation_id, id)",
    # Partial index: finding the replies left streaming stays instant however long the history.
    "CREATE INDEX IF NOT EXISTS messages_streaming ON messages(id) WHERE state = 'streaming'",
)

# What each schema version adds to the one before, applied in order to an older file.
_MIGRATIONS: dict[int, tuple[str, ...]] = {
    # Regenerate keeps earlier replies: the versions of one reply share `version_of` (the id of
    # the first), and all but the one shown are `hidden`.
    2: (
        "ALTER TABLE messages ADD COLUMN version_of INTEGER",
        "ALTER TABLE messages ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0",
    ),
}

# SQLite's primary result codes for "this file is damaged" and "this is not a database".
_SQLITE_CORRUPT = 11
_SQLITE_NOTADB = 26
# ...and for the environment getting in the way: another connection holds the lock, the file is
# read-only, the disk is full; SQLite reports a folder it can't create the -wal/-shm files in, or
# a disk too full to extend the -shm file, as "can't open" or "disk I/O error".
_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6
_SQLITE_READONLY = 8
_SQLITE_IOERR = 10
_SQLITE_FULL = 13
_SQLITE_CANTOPEN = 14
# Below this much free space, an I/O error on the history is taken to be the disk being full.
_NEARLY_FULL_BYTES = 1 << 20
# Salvaging a damaged table probes ids one by one past the last one a scan could read, up to this
# many: a damaged page hides the rows it held, not the ones after it.
_SALVAGE_PROBE = 100_000


# --- records -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Conversation:
    id: int
    title: str
    system_prompt: str
    settings: dict[str, Any]
    thinking: str | None
    model_path: str | None
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class StoredMessage:
    id: int
    conversation_id: int
    role: str
    content: str
    reasoning: str
    reasoning_seconds: float | None
    state: MessageState
    model_path: str | None
    settings: dict[str, Any]
    stats: dict[str, Any]
    created_at: float
    # The id of the first version of this reply, when Regenerate made more than one; else None.
    version_of: int | None = None


class _Keep(enum.Enum):
    KEEP = "keep"


# For arguments where None is a real value ("no model"), leaving them out must mean "unchanged".
KEEP = _Keep.KEEP


# --- the store -----------------------------------------------------------------------------------


class ChatStore:
    """One connection to the history file, for use on the thread that opened it."""

    def __init__(self, path: Path, *, recover: bool = True) -> None:
        """Open (creating if absent) the history at `path`.

        `recover=False` skips `recover_interrupted`: for a second store opened while this
        process may be streaming a reply, which recovery would wrongly mark interrupted.
        """
        self.path = Path(path)
        # The models whose replies recovery found cut off (the app died mid-reply), for the
        # next start to name.
        self.interrupted_models: list[str | None] = []
        self._transaction_depth = 0  # writes inside `together()` join its one transaction
        _inspect(self.path, integrity=False)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None)
        except sqlite3.Error as error:
            raise _history_error(error, self.path, "open") from error
        try:
            self._setup()
            if recover:
                self.recover_interrupted()
        except BaseException:
            self._db.close()
            raise

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> ChatStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def together(self) -> Iterator[None]:
        """Commit every write made inside as one: a reader sees all of them or none."""
        with self._transaction():
            yield

    # --- conversations ---

    def create_conversation(
        self,
        title: str = DEFAULT_TITLE,
        *,
        system_prompt: str = "",
        settings: dict[str, Any] | None = None,
        thinking: str | None = None,
        model_path: str | None = None,
    ) -> Conversation:
        title = _clean_title(title)
        with self._transaction() as db:
            now = time.time()
            cursor = db.execute(
                "INSERT INTO conversations"
                " (title, system_prompt, settings, thinking, model_path, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (title, system_prompt, _dumps(settings), thinking, model_path, now, now),
            )
            conversation_id = _row_id(cursor)
            self._touch(conversation_id)
        return self.conversation(conversation_id)

    def conversation(self, conversation_id: int) -> Conversation:
        rows = self._read("SELECT * FROM conversations WHERE id = ?", (conversation_id,))
        if not rows:
            raise ConversationNotFoundError(conversation_id)
        return _conversation(rows[0])

    def list_conversations(self, search: str = "") -> list[Conversation]:
        """Every chat, most recently updated first; `search` filters titles (any case)."""
        search = search.strip()
        if not search:
            rows = self._read("SELECT * FROM conversations ORDER BY updated_at DESC, id DESC")
        else:
            rows = self._read(
                "SELECT * FROM conversations"
                " WHERE qd_casefold(CAST(title AS BLOB)) LIKE ? ESCAPE '\\'"
                " ORDER BY updated_at DESC, id DESC",
                (f"%{_escape_like(search.casefold())}%",),
            )
        return [_conversation(row) for row in rows]

    def rename_conversation(self, conversation_id: int, title: str) -> None:
        title = _clean_title(title)
        # A new name is not new activity: the list stays ordered by the last message.
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE conversations SET title = ? WHERE id = ?", (title, conversation_id)
            )
            if cursor.rowcount == 0:
                raise ConversationNotFoundError(conversation_id)

    def delete_conversation(self, conversation_id: int) -> None:
        """Delete a chat and (by cascade) all its messages."""
        cursor = self._write("DELETE FROM conversations WHERE id = ?", (conversation_id,))
        if cursor.rowcount == 0:
            raise ConversationNotFoundError(conversation_id)

    def update_conversation(
        self,
        conversation_id: int,
        *,
        system_prompt: str | None = None,
        settings: dict[str, Any] | None = None,
        thinking: str | None | _Keep = KEEP,
        model_path: str | None | _Keep = KEEP,
    ) -> None:
        """Change only the fields given; `thinking=None` / `model_path=None` clear them."""
        changes: dict[str, object] = {}
        if system_prompt is not None:
            changes["system_prompt"] = system_prompt
        if settings is not None:
            changes["settings"] = _dumps(settings)
        if thinking is not KEEP:
            changes["thinking"] = thinking
        if model_path is not KEEP:
            changes["model_path"] = model_path
        with self._transaction() as db:
            if changes:
                # Column names come from the fixed keys above, never from the caller.
                assignments = ", ".join(f"{column} = ?" for column in changes)
                db.execute(
                    f"UPDATE conversations SET {assignments} WHERE id = ?",
                    (*changes.values(), conversation_id),
                )
            # Settings are not activity: the list stays ordered by the last message.
            if not db.execute(
                "SELECT 1 FROM conversations WHERE id = ?", (conversation_id,)
            ).fetchone():
                raise ConversationNotFoundError(conversation_id)

    def follow_moved_models(self, old: Path, new: Path) -> int:
        """After the models folder moved from `old` to `new`, point every chat and message
        whose model file lived inside it at where the file is now, so each chat still finds
        its model. Returns how many model paths changed (a few: chats share models)."""
        tables = ("conversations", "messages")  # fixed names, never the caller's
        with self._transaction() as db:
            stored = {
                row[0]
                for table in tables
                for row in db.execute(
                    f"SELECT DISTINCT model_path FROM {table} WHERE model_path IS NOT NULL"
                )
            }
            changed = 0
            for before in sorted(stored):
                after = moved_path(before, old, new)
                if after is None:
                    continue
                for table in tables:
                    db.execute(
                        f"UPDATE {table} SET model_path = ? WHERE model_path = ?",
                        (str(after), before),
                    )
                changed += 1
        return changed

    # --- messages ---

    def add_message(
        self,
        conversation_id: int,
        role: str,
        content: str,
        *,
        reasoning: str = "",
        reasoning_seconds: float | None = None,
        state: MessageState = MessageState.COMPLETE,
        model_path: str | None = None,
        settings: dict[str, Any] | None = None,
        stats: dict[str, Any] | None = None,
    ) -> StoredMessage:
        """Add a message at the end of a chat; a chat's first user message names it.

        A message sent to or written by a model (`model_path`) makes that model the chat's
        own: the one offered when the chat is opened again."""
        _check_choice("role", role, ROLES)
        _check_choice("state", state, STATES)
        with self._transaction() as db:
            self._touch(conversation_id)
            if model_path is not None:
                db.execute(
                    "UPDATE conversations SET model_path = ? WHERE id = ?",
                    (model_path, conversation_id),
                )
            cursor = db.execute(
                "INSERT INTO messages (conversation_id, role, content, reasoning,"
                " reasoning_seconds, state, model_path, settings, stats, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    conversation_id,
                    role,
                    content,
                    reasoning,
                    reasoning_seconds,
                    state,
                    model_path,
                    _dumps(settings),
                    _dumps(stats),
                    time.time(),
                ),
            )
            message_id = _row_id(cursor)
            if role == "user":
                self._title_from_first_message(conversation_id, content)
        return self.message(message_id)

    def start_reply(
        self,
        conversation_id: int,
        *,
        model_path: str | None = None,
        settings: dict[str, Any] | None = None,
        version_of: int | None = None,
    ) -> StoredMessage:
        """Add an empty assistant message, state "streaming", for `append_reply` to fill.

        With `version_of` (a reply of this chat), the new message is another version of that
        reply (Regenerate): it is shown and the earlier versions are kept, hidden, all in one
        transaction, so a killed app never leaves the chat without its reply.
        """
        if version_of is None:
            return self.add_message(
                conversation_id,
                "assistant",
                "",
                state=MessageState.STREAMING,
                model_path=model_path,
                settings=settings,
            )
        with self._transaction() as db:
            group = self._version_group(version_of)
            if self._conversation_of(version_of) != conversation_id:
                raise MessageNotFoundError(version_of)
            # The first version names the group too, so a chat's grouped replies are one query.
            db.execute("UPDATE messages SET version_of = ? WHERE id = ?", (group, group))
            db.execute("UPDATE messages SET hidden = 1 WHERE version_of = ?", (group,))
            self._touch(conversation_id)
            cursor = db.execute(
                "INSERT INTO messages (conversation_id, role, content, state, model_path,"
                " settings, created_at, version_of) VALUES (?, 'assistant', '', ?, ?, ?, ?, ?)",
                (
                    conversation_id,
                    MessageState.STREAMING,
                    model_path,
                    _dumps(settings),
                    time.time(),
                    group,
                ),
            )
            message_id = _row_id(cursor)
        return self.message(message_id)

    def versions(self, message_id: int) -> list[StoredMessage]:
        """Every version of a reply (the message itself when it has no others), oldest first."""
        message = self.message(message_id)
        if message.version_of is None:
            return [message]
        rows = self._read(
            "SELECT * FROM messages WHERE version_of = ? ORDER BY id", (message.version_of,)
        )
        return [_message(row) for row in rows]

    def version_ids(self, conversation_id: int) -> dict[int, list[int]]:
        """The ids of each reply's versions in a chat, oldest first, keyed by the first's id;
        replies with one version are left out. One query, for opening a long chat."""
        rows = self._read(
            "SELECT id, version_of FROM messages"
            " WHERE conversation_id = ? AND version_of IS NOT NULL ORDER BY id",
            (conversation_id,),
        )
        groups: dict[int, list[int]] = {}
        for row in rows:
            groups.setdefault(row["version_of"], []).append(row["id"])
        return groups

    def show_version(self, message_id: int) -> None:
        """Show this version of its reply, hiding the others: the next prompt reads this one."""
        with self._transaction() as db:
            group = self._version_group(message_id)
            db.execute(
                "UPDATE messages SET hidden = (id != ?) WHERE version_of = ?", (message_id, group)
            )

    def discard_version(self, message_id: int) -> StoredMessage | None:
        """Delete one version of a reply (a regenerate that failed before any text) and show the
        newest one left; returns it, or None when the reply had no other version."""
        with self._transaction() as db:
            group = self._version_group(message_id)
            db.execute("DELETE FROM messages WHERE id = ?", (message_id,))
            row = db.execute(
                "SELECT id FROM messages WHERE version_of = ? ORDER BY id DESC LIMIT 1", (group,)
            ).fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE messages SET hidden = (id != ?) WHERE version_of = ?", (row[0], group)
            )
            shown = int(row[0])
        return self.message(shown)

    def append_reply(self, message_id: int, *, content: str = "", reasoning: str = "") -> None:
        """Add text to the end of a message, committed at once.

        SQLite still rewrites the message's row each time, so the cost grows with the reply's
        length (about 1 ms per call at 80 kB); callers streaming long replies should batch tokens.
        """
        if not content and not reasoning:
            return
        cursor = self._write(
            "UPDATE messages SET content = content || ?, reasoning = reasoning || ? WHERE id = ?",
            (content, reasoning, message_id),
        )
        if cursor.rowcount == 0:
            raise MessageNotFoundError(message_id)

    def finish_reply(
        self,
        message_id: int,
        *,
        state: MessageState,
        stats: dict[str, Any] | None = None,
        reasoning_seconds: float | None = None,
    ) -> None:
        """Close a streaming reply as complete, stopped, failed or interrupted."""
        _check_choice("state", state, tuple(s for s in STATES if s != MessageState.STREAMING))
        with self._transaction() as db:
            db.execute(
                "UPDATE messages SET state = ?, stats = coalesce(?, stats),"
                " reasoning_seconds = coalesce(?, reasoning_seconds) WHERE id = ?",
                (state, None if stats is None else _dumps(stats), reasoning_seconds, message_id),
            )
            self._touch(self._conversation_of(message_id))

    def message(self, message_id: int) -> StoredMessage:
        rows = self._read("SELECT * FROM messages WHERE id = ?", (message_id,))
        if not rows:
            raise MessageNotFoundError(message_id)
        return _message(rows[0])

    def messages(self, conversation_id: int) -> list[StoredMessage]:
        """A chat's messages, oldest first: of a regenerated reply, the version shown."""
        rows = self._read(
            "SELECT * FROM messages WHERE conversation_id = ? AND hidden = 0 ORDER BY id",
            (conversation_id,),
        )
        if not rows:
            self.conversation(conversation_id)  # an empty chat, or none at all?
        return [_message(row) for row in rows]

    def update_message(self, message_id: int, *, content: str) -> None:
        with self._transaction() as db:
            db.execute("UPDATE messages SET content = ? WHERE id = ?", (content, message_id))
            self._touch(self._conversation_of(message_id))

    def delete_messages_from(self, message_id: int) -> None:
        """Delete a message and every later one of its chat (Regenerate, Edit and resend)."""
        with self._transaction() as db:
            conversation_id = self._conversation_of(message_id)
            db.execute(
                "DELETE FROM messages WHERE conversation_id = ? AND id >= ?",
                (conversation_id, message_id),
            )
            self._touch(conversation_id)

    def recover_interrupted(self) -> int:
        """Mark replies left "streaming" by a killed process as "interrupted"; return how many.

        Their models are added to `interrupted_models`.
        """
        rows = self._read("SELECT model_path FROM messages WHERE state = 'streaming'")
        self.interrupted_models += [row["model_path"] for row in rows]
        cursor = self._write(
            "UPDATE messages SET state = 'interrupted' WHERE state = 'streaming'", ()
        )
        return cursor.rowcount

    def checkpoint(self) -> bool:
        """Copy what the WAL holds into the database file, so the file alone has every chat.

        PASSIVE, not TRUNCATE: it never waits for the GUI thread's readers (TRUNCATE would wait
        out busy_timeout behind them, on the engine thread, after every reply), and once the
        WAL is fully copied the next write starts it over from the beginning, so it stops
        growing all the same. A failure is logged and ignored: the reply is safe in the WAL.
        Returns whether every frame was copied.
        """
        try:
            busy, frames, copied = self._db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.DatabaseError as error:
            log.warning("couldn't checkpoint the chat history path=%s error=%r", self.path, error)
            return False
        return not busy and frames == copied

    # --- internals ---

    def _setup(self) -> None:
        with self._errors("open"):
            self._db.row_factory = sqlite3.Row
            self._db.text_factory = _text
            # Called with a BLOB: sqlite3 would refuse a title with bad bytes before we saw it.
            self._db.create_function(
                "qd_casefold", 1, lambda data: _text(data).casefold(), deterministic=True
            )
            self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._db.execute("PRAGMA foreign_keys = ON")
            # Checked before anything writes: a newer Quantdesk's file must stay as it was.
            self._check_version()
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")  # WAL stays consistent; no fsync
        with self._transaction() as db:
            # Re-checked under the write lock: another thread may have created it meanwhile.
            version = self._check_version()
            if version == 0:
                for statement in _SCHEMA:
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            elif version < SCHEMA_VERSION:
                for step in range(version + 1, SCHEMA_VERSION + 1):
                    for statement in _MIGRATIONS[step]:
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                log.info(
                    "chat history upgraded path=%s from=%d to=%d",
                    self.path,
                    version,
                    SCHEMA_VERSION,
                )

    def _check_version(self) -> int:
        version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise _newer_version_error(self.path)
        return version

    def _touch(self, conversation_id: int) -> None:
        """Bump a chat's updated_at, strictly past every other chat's (even on a coarse clock)."""
        cursor = self._db.execute(
            "UPDATE conversations SET updated_at ="
            " max(?, (SELECT max(updated_at) FROM conversations) + 0.000001) WHERE id = ?",
            (time.time(), conversation_id),
        )
        if cursor.rowcount == 0:
            raise ConversationNotFoundError(conversation_id)

    def _version_group(self, message_id: int) -> int:
        """The id of the first version of `message_id`'s reply (its own id if it has none)."""
        row = self._db.execute(
            "SELECT coalesce(version_of, id) FROM messages WHERE id = ?", (message_id,)
        ).fetchone()
        if row is None:
            raise MessageNotFoundError(message_id)
        return int(row[0])

    def _conversation_of(self, message_id: int) -> int:
        row = self._db.execute(
            "SELECT conversation_id FROM messages WHERE id = ?", (message_id,)
        ).fetchone()
        if row is None:
            raise MessageNotFoundError(message_id)
        return int(row[0])

    def _title_from_first_message(self, conversation_id: int, text: str) -> None:
        title = title_from_text(text)
        if title:
            self._db.execute(
                "UPDATE conversations SET title = ? WHERE id = ? AND title = ?",
                (title, conversation_id, DEFAULT_TITLE),
            )

    def _read(self, sql: str, parameters: tuple[object, ...] = ()) -> list[sqlite3.Row]:
        with self._errors("read"):
            return self._db.execute(sql, parameters).fetchall()

    def _write(self, sql: str, parameters: tuple[object, ...]) -> sqlite3.Cursor:
        """One statement, which SQLite commits by itself (the connection is in autocommit)."""
        with self._errors("save"):
            return self._db.execute(sql, parameters)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """Several statements committed together, or not at all; nested, they join the outer one."""
        if self._transaction_depth:
            self._transaction_depth += 1
            try:
                yield self._db
            finally:
                self._transaction_depth -= 1
            return
        with self._errors("save"):
            # IMMEDIATE takes the write lock up front: a read that later upgrades to a write
            # can fail with "database is locked" at once, without waiting out busy_timeout.
            self._db.execute("BEGIN IMMEDIATE")
            self._transaction_depth = 1
            try:
                yield self._db
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            finally:
                self._transaction_depth = 0
            self._db.execute("COMMIT")

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        """Turn SQLite's failures into HistoryFileError; misuse (wrong thread, closed) passes as is."""
        try:
            yield
        except sqlite3.ProgrammingError:
            raise
        except sqlite3.DatabaseError as error:
            raise _history_error(error, self.path, doing) from error


# --- opening, with recovery from a damaged file --------------------------------------------------


@dataclass(frozen=True)
class Salvaged:
    """What was read back from a history file row by row: chats and messages kept."""

    conversations: int
    messages: int

    def describe(self) -> str:
        chats = "1 chat" if self.conversations == 1 else f"{self.conversations:,} chats"
        messages = "1 message" if self.messages == 1 else f"{self.messages:,} messages"
        return f"{chats} and {messages}"


def open_chat_store(path: Path) -> tuple[ChatStore, str | None]:
    """Open the app's history; a damaged file is moved aside and what it still holds is
    salvaged, row by row, into a fresh one.

    Returns the store and, when the file was moved aside, a sentence saying how much was
    recovered and where the old file was kept.
    Raises HistoryFileError if the folder can't be written, the file is from a newer Quantdesk,
    or the file can't be opened for writing (read-only, a full disk, another program's lock).
    """
    path = Path(path)
    _make_folder(path.parent)
    try:
        _inspect(path, integrity=True)
        return ChatStore(path), None
    except CorruptHistoryError as damage:
        kept = _move_aside(path)
        log.warning(
            "damaged chat history moved aside path=%s kept=%s reason=%s", path, kept, damage.reason
        )
        store = ChatStore(path)
        try:
            recovered = salvage(kept, store)
        except HistoryError as error:
            log.warning("nothing could be salvaged from path=%s: %s", kept, error)
            recovered = Salvaged(0, 0)
        log.warning("salvaged from the damaged chat history: %s", recovered.describe())
        note = (
            f"Your chat history was damaged ({damage.reason}), so a new one was started with what "
            f"could still be read: {recovered.describe()} recovered. "
            f"The old file was kept as {kept}."
        )
        return store, note


def open_readable_copy(path: Path, copy: Path) -> tuple[ChatStore, Salvaged | None]:
    """A new store at `copy` holding every chat that can be read from `path`, which is only
    read (never written, not even a checkpoint): for a history that can't be opened for
    writing, so its chats can still be read.

    Returns the store and what was copied; None when `path` couldn't be read at all, or is
    from a newer Quantdesk (whose tables this version doesn't know).
    """
    copy = Path(copy)
    _make_folder(copy.parent)
    store = ChatStore(copy)
    try:
        return store, salvage(path, store)
    except HistoryError as error:
        log.warning("couldn't read the chat history for a copy path=%s: %s", path, error)
        return store, None


def salvage(source: Path, into: ChatStore) -> Salvaged:
    """Copy every conversation and message that can be read from `source` into `into`, row by
    row, keeping their ids; a damaged page loses only the rows it held.

    Values that can't be right (a role we don't know, settings that aren't JSON) are mended
    or, for a message with no known role, left out. Messages whose chat is lost go to a chat
    named "Recovered messages". Replies left streaming come back "interrupted".
    Raises HistoryFileError when `source` can't be read at all or is from a newer Quantdesk.
    """
    db = _open_read_only(source)
    try:
        conversations = [
            _mended_conversation(row) for row in _readable_rows(db, "conversations", source)
        ]
        messages = [_mended_message(row) for row in _readable_rows(db, "messages", source)]
    finally:
        db.close()
    kept_messages = [message for message in messages if message is not None]
    with into._transaction() as target:
        for conversation in conversations:
            target.execute(
                "INSERT OR IGNORE INTO conversations (id, title, system_prompt, settings,"
                " thinking, model_path, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                conversation,
            )
        chats = {conversation[0] for conversation in conversations}
        orphans: int | None = None
        for message in kept_messages:
            if message[1] not in chats:
                if orphans is None:
                    orphans = _row_id(
                        target.execute(
                            "INSERT INTO conversations (title, created_at, updated_at)"
                            " VALUES ('Recovered messages', ?, ?)",
                            (time.time(), time.time()),
                        )
                    )
                message = (message[0], orphans, *message[2:])
            target.execute(
                "INSERT OR IGNORE INTO messages (id, conversation_id, role, content, reasoning,"
                " reasoning_seconds, state, model_path, settings, stats, created_at, version_of,"
                " hidden) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                message,
            )
        # A reply whose shown version was lost shows its newest version left.
        target.execute(
            "UPDATE messages SET hidden = 0 WHERE version_of IS NOT NULL"
            " AND id = (SELECT max(id) FROM messages AS v WHERE v.version_of = messages.version_of)"
            " AND NOT EXISTS (SELECT 1 FROM messages AS v"
            " WHERE v.version_of = messages.version_of AND v.hidden = 0)"
        )
    recovered = Salvaged(len(conversations), len(kept_messages))
    log.info("salvaged chat history source=%s into=%s %s", source, into.path, recovered.describe())
    return recovered


def _open_read_only(path: Path) -> sqlite3.Connection:
    """A connection that can't change `path`. Plain read-only first (it sees the -wal); if
    SQLite can't make the -shm file it needs for that (a read-only folder, a full disk), the
    file alone, as immutable."""
    if not path.exists():
        raise HistoryFileError(f"There is no chat history at {path}.", path=path)
    uri = path.resolve().as_uri()
    last: sqlite3.Error | None = None
    for options in ("mode=ro", "mode=ro&immutable=1"):
        try:
            db = sqlite3.connect(f"{uri}?{options}", uri=True)
        except sqlite3.Error as error:
            last = error
            continue
        db.text_factory = _text
        db.row_factory = sqlite3.Row
        try:
            db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            # Tolerates a schema naming pages past a cut-off end (an index made last), which
            # would otherwise refuse every table; harmless on a connection that can't write.
            db.execute("PRAGMA writable_schema = ON")
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
        except sqlite3.DatabaseError as error:
            db.close()
            last = error
            continue
        if version > SCHEMA_VERSION:
            db.close()
            raise _newer_version_error(path)
        return db
    assert last is not None
    raise _history_error(last, path, "read")


def _readable_rows(db: sqlite3.Connection, table: str, path: Path) -> Iterator[sqlite3.Row]:
    """Every row of `table` that can be read, in id order; `table` is one of ours, never input.

    One scan when the table is whole (a sound file copied at start-up); past a damaged page,
    each remaining id up to the last one given out is read on its own, so only the rows that
    page held are lost.
    """
    last = 0
    try:
        for row in db.execute(f"SELECT * FROM {table} ORDER BY id"):  # our table
            last = row["id"]
            yield row
        return
    except sqlite3.DatabaseError as error:
        log.warning("damaged table=%s path=%s after id %d: %r", table, path, last, error)
    highest = last
    for query, parameters in (
        ("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)),
        (f"SELECT max(id) FROM {table}", ()),  # our table name
    ):
        try:
            found = db.execute(query, parameters).fetchone()
        except sqlite3.DatabaseError:
            continue
        if found and isinstance(found[0], int):
            highest = max(highest, found[0])
    for row_id in range(last + 1, min(highest, last + _SALVAGE_PROBE) + 1):
        try:
            row = db.execute(
                f"SELECT * FROM {table} WHERE id = ?",  # our table name
                (row_id,),
            ).fetchone()
        except sqlite3.DatabaseError:
            continue  # this row's page is damaged; the others may not be
        if row is not None:
            yield row


def _mended_conversation(row: sqlite3.Row) -> tuple[object, ...]:
    now = time.time()
    title = _field_text(row, "title").strip() or DEFAULT_TITLE
    return (
        row["id"],
        title,
        _field_text(row, "system_prompt"),
        _json_object_text(_field(row, "settings")),
        _field_text_or_none(row, "thinking"),
        _field_text_or_none(row, "model_path"),
        _field_number(row, "created_at", now),
        _field_number(row, "updated_at", now),
    )


def _mended_message(row: sqlite3.Row) -> tuple[object, ...] | None:
    role = _field_text(row, "role")
    conversation_id = _field(row, "conversation_id")
    if role not in ROLES or not isinstance(conversation_id, int):
        return None  # whose words these are can't be known
    state = _field_text(row, "state")
    if state not in STATES or state == "streaming":
        state = "interrupted"
    seconds = _field(row, "reasoning_seconds")
    version_of = _field(row, "version_of")  # absent from a version 1 file
    return (
        row["id"],
        conversation_id,
        role,
        _field_text(row, "content"),
        _field_text(row, "reasoning"),
        seconds if isinstance(seconds, (int, float)) else None,
        state,
        _field_text_or_none(row, "model_path"),
        _json_object_text(_field(row, "settings")),
        _json_object_text(_field(row, "stats")),
        _field_number(row, "created_at", time.time()),
        version_of if isinstance(version_of, int) else None,
        1 if _field(row, "hidden") == 1 else 0,
    )


def _field(row: sqlite3.Row, name: str) -> object:
    # `name in row` would look at the values: a Row is a sequence.
    return row[name] if name in row.keys() else None  # noqa: SIM118


def _field_text(row: sqlite3.Row, name: str) -> str:
    value = _field(row, name)
    if isinstance(value, bytes):
        return _text(value)
    return value if isinstance(value, str) else ""


def _field_text_or_none(row: sqlite3.Row, name: str) -> str | None:
    return _field_text(row, name) or None


def _field_number(row: sqlite3.Row, name: str, default: float) -> float:
    value = _field(row, name)
    return float(value) if isinstance(value, (int, float)) else default


def _json_object_text(value: object) -> str:
    return _dumps(_loads(value if isinstance(value, str) else "{}"))


def _inspect(path: Path, *, integrity: bool) -> None:
    """Refuse a newer Quantdesk's file or (with `integrity`) a damaged one, writing nothing.

    Read-only, so that not even a WAL checkpoint on close changes a file we then refuse.
    """
    if not path.exists():
        return
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise _history_error(error, path, "open") from error
    try:
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if int(db.execute("PRAGMA user_version").fetchone()[0]) > SCHEMA_VERSION:
            raise _newer_version_error(path)
        if integrity:
            problems = [str(row[0]) for row in db.execute("PRAGMA quick_check").fetchall()]
            if problems != ["ok"]:
                raise CorruptHistoryError(path, problems[0])
    except sqlite3.ProgrammingError:
        raise
    except sqlite3.DatabaseError as error:
        raise _history_error(error, path, "open") from error
    finally:
        db.close()


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise HistoryFileError(
            f"Can't keep the chat history in {folder}: {error.strerror or error}.", path=folder
        ) from error


def _move_aside(path: Path) -> Path:
    """Rename a damaged file (and its -wal/-shm, which belong to it) out of the way; delete none."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    kept = path.with_name(f"{path.name}.corrupt-{stamp}")
    number = 1
    while any(Path(f"{kept}{suffix}").exists() for suffix in ("", "-wal", "-shm")):
        number += 1
        kept = path.with_name(f"{path.name}.corrupt-{stamp}-{number}")
    # The main file first: if a sidecar then fails to move we stop, rather than open a fresh
    # database beside a stale -wal that SQLite would replay into it.
    for suffix in ("", "-wal", "-shm"):
        source = Path(f"{path}{suffix}")
        if not source.exists():
            continue
        try:
            source.rename(f"{kept}{suffix}")
        except OSError as error:
            raise HistoryFileError(
                f"The chat history file {path} is damaged and couldn't be moved aside: "
                f"{error.strerror or error}.",
                path=path,
            ) from error
    return kept


def _history_error(error: sqlite3.Error, path: Path, doing: str) -> HistoryFileError:
    if _is_damage(error):
        return CorruptHistoryError(path, str(error))
    why = _why(error, path)
    log.warning("couldn't %s the chat history path=%s error=%r", doing, path, error)
    return HistoryFileError(
        f"Couldn't {doing} the chat history at {path}: {why}", path=path, reason=why
    )


def _why(error: sqlite3.Error, path: Path) -> str:
    """What the environment did, and what the person can do about it, from SQLite's code and,
    where SQLite only says it couldn't open or write, from the file and its disk."""
    code = (getattr(error, "sqlite_errorcode", None) or 0) & 0xFF
    if code in (_SQLITE_BUSY, _SQLITE_LOCKED):
        return (
            "another program is using the chat history. Close it (or the other Quantdesk "
            "window), then try again."
        )
    if code in (_SQLITE_READONLY, _SQLITE_CANTOPEN, _SQLITE_IOERR, _SQLITE_FULL):
        if code == _SQLITE_FULL or _free_bytes(path) < _NEARLY_FULL_BYTES:
            return "the disk is full. Free some space on it, then try again."
        read_only = _read_only_reason(path)
        if read_only:
            return read_only
    if code == _SQLITE_READONLY:
        return "the file can't be written. Check that you may change it, then try again."
    return f"{error}. Try again; if it keeps failing, the log has details."


def _free_bytes(path: Path) -> int:
    """Free space on the disk holding `path` (or its folder); unknown counts as plenty."""
    for place in (path, path.parent):
        try:
            return shutil.disk_usage(place).free
        except OSError:
            continue
    return 1 << 62


def _read_only_reason(path: Path) -> str | None:
    """Why `path` (or its folder, where SQLite keeps the -wal and -shm files) can't be
    written, with the fix for the usual cause: one run as administrator made them root's."""
    folder = path.parent
    if path.exists() and not os.access(path, os.W_OK):
        what = "the file is read-only"
    elif folder.is_dir() and not os.access(folder, os.W_OK):
        what = f"its folder {folder} is read-only"
    else:
        return None
    if os.name == "posix":
        import getpass  # only for this rare sentence, not on every start

        fix = (
            f"Make it yours again (after running Quantdesk with sudo: "
            f"sudo chown -R {getpass.getuser()} {folder}), then try again."
        )
    else:
        fix = "Allow yourself to change it (the file's Properties, Security), then try again."
    return f"{what}. {fix}"


def _is_damage(error: sqlite3.Error) -> bool:
    code = getattr(error, "sqlite_errorcode", None)  # Python 3.11+
    if code is not None:
        return code & 0xFF in (_SQLITE_CORRUPT, _SQLITE_NOTADB)
    # Python 3.10 raises plain DatabaseError only for these (and unknown) codes.
    return type(error) is sqlite3.DatabaseError


def _newer_version_error(path: Path) -> HistoryFileError:
    return HistoryFileError(
        f"The chat history at {path} was saved by a newer version of Quantdesk. "
        "Update Quantdesk to open it.",
        path=path,
    )


# --- small helpers -------------------------------------------------------------------------------


def title_from_text(text: str, limit: int = 48) -> str:
    """A chat title from a message: its first non-empty line, cut at a word with "…" if long."""
    words = next((line.split() for line in text.splitlines() if line.strip()), [])
    title = " ".join(words)
    if len(title) <= limit:
        return title
    cut = title[: limit - 1]  # room for the "…"
    space = cut.rfind(" ")
    # Back up to a word's end unless the cut already falls on one, or backing up loses half.
    if title[len(cut)] != " " and space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:") + "…"


def _clean_title(title: str) -> str:
    title = title.strip()
    if not title:
        raise ValueError("A chat title can't be empty.")
    return title


def _check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"Unknown message {name} {value!r}; expected one of {', '.join(allowed)}.")


def _escape_like(text: str) -> str:
    """Make LIKE's wildcards (and its escape character) match themselves."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _dumps(data: dict[str, Any] | None) -> str:
    return json.dumps(data or {}, ensure_ascii=False)


def _loads(text: str) -> dict[str, Any]:
    """A stored settings or stats object; anything else (a damaged or hand-edited value)
    reads as empty rather than keeping its chat from opening."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        log.warning("unreadable JSON in the chat history, read as empty: %.80r", text)
        return {}
    return data if isinstance(data, dict) else {}


def _text(data: bytes) -> str:
    """SQLite TEXT as str; bytes that aren't UTF-8 become "\ufffd" instead of an error."""
    return bytes(data).decode("utf-8", errors="replace")


def _row_id(cursor: sqlite3.Cursor) -> int:
    assert cursor.lastrowid is not None  # always set after an INSERT into a rowid table
    return cursor.lastrowid


def _conversation(row: sqlite3.Row) -> Conversation:
    return Conversation(
        id=row["id"],
        title=row["title"],
        system_prompt=row["system_prompt"],
        settings=_loads(row["settings"]),
        thinking=row["thinking"],
        model_path=row["model_path"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _message(row: sqlite3.Row) -> StoredMessage:
    return StoredMessage(
        id=row["id"],
        conversation_id=row["conversation_id"],
        role=row["role"],
        content=row["content"],
        reasoning=row["reasoning"],
        reasoning_seconds=row["reasoning_seconds"],
        state=MessageState(row["state"]),
        model_path=row["model_path"],
        settings=_loads(row["settings"]),
        stats=_loads(row["stats"]),
        created_at=row["created_at"],
        version_of=row["version_of"],
    )
