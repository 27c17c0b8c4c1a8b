from __future__ import annotations

import getpass
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.chat.history import (
    DEFAULT_TITLE,
    SCHEMA_VERSION,
    ChatStore,
    MessageState,
    Salvaged,
    open_chat_store,
    open_readable_copy,
    salvage,
    title_from_text,
)
from app.core.errors import (
    ConversationNotFoundError,
    HistoryError,
    HistoryFileError,
    MessageNotFoundError,
    QuantdeskError,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "chats.sqlite3"


@pytest.fixture
def store(db_path: Path) -> Iterator[ChatStore]:
    opened, note = open_chat_store(db_path)
    assert note is None
    yield opened
    opened.close()


def _raw(path: Path) -> sqlite3.Connection:
    """A plain connection, to look at the file without going through ChatStore."""
    return sqlite3.connect(path, isolation_level=None)


# --- the file ------------------------------------------------------------------------------------


def test_new_file_is_wal_with_the_current_schema_version(store: ChatStore, db_path: Path) -> None:
    raw = _raw(db_path)
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"conversations", "messages"} <= tables
    raw.close()


def test_reopening_a_healthy_store_keeps_everything(db_path: Path) -> None:
    with open_chat_store(db_path)[0] as first:
        chat = first.create_conversation("Kept")
        first.add_message(chat.id, "user", "hello")
    second, note = open_chat_store(db_path)
    with second:
        assert note is None
        assert [c.title for c in second.list_conversations()] == ["Kept"]
        assert second.messages(chat.id)[0].content == "hello"


# --- conversations -------------------------------------------------------------------------------


def test_conversation_round_trip(store: ChatStore) -> None:
    made = store.create_conversation(
        "Plans",
        system_prompt="Be brief.",
        settings={"temperature": 0.7, "note": "é ✓"},
        thinking="on",
        model_path="/models/a.gguf",
    )
    assert made == store.conversation(made.id)
    assert (made.title, made.system_prompt, made.thinking, made.model_path) == (
        "Plans",
        "Be brief.",
        "on",
        "/models/a.gguf",
    )
    assert made.settings == {"temperature": 0.7, "note": "é ✓"}
    assert made.created_at <= made.updated_at

    plain = store.create_conversation()
    assert (plain.title, plain.system_prompt, plain.settings) == (DEFAULT_TITLE, "", {})
    assert (plain.thinking, plain.model_path) == (None, None)


def test_missing_conversation_raises_a_lookup_error_with_a_sentence(store: ChatStore) -> None:
    with pytest.raises(ConversationNotFoundError) as caught:
        store.conversation(999)
    error = caught.value
    assert isinstance(error, LookupError)
    assert isinstance(error, HistoryError)
    # A missing chat id is nothing the disk did: not an OSError, so no "free some space" advice.
    assert not isinstance(error, OSError)
    assert isinstance(error, QuantdeskError)
    assert error.conversation_id == 999
    assert str(error) == "Chat 999 no longer exists; it may have been deleted."
    for call in (
        lambda: store.rename_conversation(999, "x"),
        lambda: store.delete_conversation(999),
        lambda: store.update_conversation(999, system_prompt="x"),
        lambda: store.messages(999),
        lambda: store.add_message(999, "user", "hi"),
        lambda: store.start_reply(999),
    ):
        with pytest.raises(ConversationNotFoundError):
            call()
    assert store.list_conversations() == []


def test_rename_strips_and_refuses_empty(store: ChatStore) -> None:
    chat = store.create_conversation()
    store.rename_conversation(chat.id, "  Trip to Lyon \n")
    assert store.conversation(chat.id).title == "Trip to Lyon"
    with pytest.raises(ValueError):
        store.rename_conversation(chat.id, "   ")
    assert store.conversation(chat.id).title == "Trip to Lyon"


def test_update_conversation_changes_only_given_fields(store: ChatStore) -> None:
    chat = store.create_conversation(
        "T", system_prompt="S", settings={"a": 1}, thinking="on", model_path="/m.gguf"
    )
    store.update_conversation(chat.id, system_prompt="New")
    after = store.conversation(chat.id)
    assert (after.system_prompt, after.settings, after.thinking, after.model_path) == (
        "New",
        {"a": 1},
        "on",
        "/m.gguf",
    )
    assert after.updated_at == chat.updated_at  # settings are no activity

    store.update_conversation(chat.id, settings={"b": 2}, thinking=None, model_path="/n.gguf")
    after = store.conversation(chat.id)
    assert (after.system_prompt, after.settings, after.thinking, after.model_path) == (
        "New",
        {"b": 2},
        None,
        "/n.gguf",
    )
    store.update_conversation(chat.id, model_path=None)
    assert store.conversation(chat.id).model_path is None
    assert store.conversation(chat.id).title == "T"


def test_a_chat_remembers_the_model_its_latest_message_used(store: ChatStore) -> None:
    chat = store.create_conversation(model_path="/models/a.gguf")
    store.add_message(chat.id, "user", "Hi", model_path="/models/b.gguf")
    assert store.conversation(chat.id).model_path == "/models/b.gguf"
    reply = store.start_reply(chat.id, model_path="/models/c.gguf")
    store.finish_reply(reply.id, state=MessageState.COMPLETE)
    assert store.conversation(chat.id).model_path == "/models/c.gguf"
    store.add_message(chat.id, "system", "A note with no model")  # keeps the chat's model
    assert store.conversation(chat.id).model_path == "/models/c.gguf"


def test_list_is_most_recently_updated_first(store: ChatStore) -> None:
    a = store.create_conversation("A")
    b = store.create_conversation("B")
    c = store.create_conversation("C")
    assert [x.title for x in store.list_conversations()] == ["C", "B", "A"]
    store.add_message(a.id, "user", "bump")
    assert [x.title for x in store.list_conversations()] == ["A", "C", "B"]
    store.rename_conversation(b.id, "B2")
    assert [x.title for x in store.list_conversations()] == [
        "A",
        "C",
        "B2",
    ]  # renaming is no activity
    store.update_conversation(c.id, thinking="off")  # settings are no activity either
    assert [x.title for x in store.list_conversations()] == ["A", "C", "B2"]


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("", ["Café menu", "back\\slash", "snakeXcase", "snake_case", "100 percent", "100% sure"]),
        ("%", ["100% sure"]),
        ("0%", ["100% sure"]),
        ("_", ["snake_case"]),
        ("e_c", ["snake_case"]),
        ("\\", ["back\\slash"]),
        ("SNAKE", ["snakeXcase", "snake_case"]),
        ("  100 ", ["100 percent", "100% sure"]),
        ("CAFÉ", ["Café menu"]),
        ("nothing", []),
    ],
)
def test_search_is_literal_substring_in_any_case(
    store: ChatStore, search: str, expected: list[str]
) -> None:
    for title in ("100% sure", "100 percent", "snake_case", "snakeXcase", "back\\slash"):
        store.create_conversation(title)
    store.create_conversation("Café menu")
    assert [c.title for c in store.list_conversations(search)] == expected


def test_delete_conversation_cascades_to_its_messages(store: ChatStore, db_path: Path) -> None:
    doomed = store.create_conversation("Doomed")
    kept = store.create_conversation("Kept")
    store.add_message(doomed.id, "user", "one")
    store.add_message(doomed.id, "assistant", "two")
    store.add_message(kept.id, "user", "three")
    store.delete_conversation(doomed.id)
    with pytest.raises(ConversationNotFoundError):
        store.conversation(doomed.id)
    assert [c.id for c in store.list_conversations()] == [kept.id]
    raw = _raw(db_path)
    assert raw.execute("SELECT content FROM messages").fetchall() == [("three",)]
    raw.close()


def test_writes_made_together_are_seen_all_at_once_or_not_at_all(
    store: ChatStore, db_path: Path
) -> None:
    raw = _raw(db_path)  # another reader, as the app's chat list is while the API saves

    def chats_and_messages() -> tuple[int, int]:
        (chats,) = raw.execute("SELECT count(*) FROM conversations").fetchone()
        (messages,) = raw.execute("SELECT count(*) FROM messages").fetchone()
        return chats, messages

    with store.together():
        chat = store.create_conversation()
        store.add_message(chat.id, "user", "Say hello.")
        assert chats_and_messages() == (0, 0)  # nothing half-written shows
        store.add_message(chat.id, "assistant", "Hello!")
    assert chats_and_messages() == (1, 2)
    assert store.conversation(chat.id).title == "Say hello."

    with pytest.raises(RuntimeError), store.together():
        store.create_conversation("Cut short")
        raise RuntimeError("the process failed mid-save")
    assert chats_and_messages() == (1, 2)  # the failed chat left nothing behind
    store.add_message(chat.id, "user", "Again.")  # and the store writes on afterwards
    assert chats_and_messages() == (1, 3)
    raw.close()


# --- messages ------------------------------------------------------------------------------------


def test_add_message_round_trip(store: ChatStore) -> None:
    chat = store.create_conversation("Named")
    message = store.add_message(
        chat.id,
        "assistant",
        "Answer",
        reasoning="Because",
        reasoning_seconds=1.5,
        state="stopped",
        model_path="/m.gguf",
        settings={"top_p": 0.9},
        stats={"tokens": 12, "tokens_per_second": 30.5},
    )
    assert message == store.message(message.id) == store.messages(chat.id)[0]
    assert (message.conversation_id, message.role, message.content, message.reasoning) == (
        chat.id,
        "assistant",
        "Answer",
        "Because",
    )
    assert (message.reasoning_seconds, message.state, message.model_path) == (
        1.5,
        "stopped",
        "/m.gguf",
    )
    assert message.settings == {"top_p": 0.9}
    assert message.stats == {"tokens": 12, "tokens_per_second": 30.5}
    assert store.conversation(chat.id).updated_at > chat.updated_at

    plain = store.add_message(chat.id, "user", "Q")
    assert (plain.reasoning, plain.reasoning_seconds, plain.state) == ("", None, "complete")
    assert (plain.model_path, plain.settings, plain.stats) == (None, {}, {})


def test_unknown_role_or_state_is_refused(store: ChatStore) -> None:
    chat = store.create_conversation()
    with pytest.raises(ValueError, match="role"):
        store.add_message(chat.id, "robot", "hi")
    with pytest.raises(ValueError, match="state"):
        store.add_message(chat.id, "user", "hi", state="done")
    reply = store.start_reply(chat.id)
    with pytest.raises(ValueError, match="state"):
        store.finish_reply(reply.id, state="streaming")
    assert [m.id for m in store.messages(chat.id)] == [reply.id]


def test_first_user_message_names_a_new_chat(store: ChatStore) -> None:
    chat = store.create_conversation()
    store.add_message(chat.id, "system", "You are helpful.")
    store.add_message(chat.id, "user", "   \n")  # nothing to name it with
    assert store.conversation(chat.id).title == DEFAULT_TITLE
    store.add_message(chat.id, "user", "\n  How do   tides work?\nAnd why twice a day?")
    assert store.conversation(chat.id).title == "How do tides work?"
    store.add_message(chat.id, "user", "Something else")
    assert store.conversation(chat.id).title == "How do tides work?"

    named = store.create_conversation("My title")
    store.add_message(named.id, "user", "Hello")
    assert store.conversation(named.id).title == "My title"


def test_streaming_reply_round_trip(store: ChatStore) -> None:
    chat = store.create_conversation()
    store.add_message(chat.id, "user", "Hi")
    reply = store.start_reply(chat.id, model_path="/m.gguf", settings={"temperature": 0.2})
    assert (reply.role, reply.state, reply.content, reply.reasoning) == (
        "assistant",
        "streaming",
        "",
        "",
    )
    assert (reply.model_path, reply.settings) == ("/m.gguf", {"temperature": 0.2})
    store.append_reply(reply.id, reasoning="Let me ")
    store.append_reply(reply.id, reasoning="think.")
    store.append_reply(reply.id, content="Hel")
    store.append_reply(reply.id)  # nothing to add
    store.append_reply(reply.id, content="lo ✓")
    store.finish_reply(reply.id, state="complete", stats={"tokens": 3}, reasoning_seconds=0.25)
    done = store.message(reply.id)
    assert (done.content, done.reasoning, done.state) == ("Hello ✓", "Let me think.", "complete")
    assert (done.stats, done.reasoning_seconds) == ({"tokens": 3}, 0.25)

    # Finishing without stats keeps what was there.
    store.finish_reply(reply.id, state="stopped")
    again = store.message(reply.id)
    assert (again.state, again.stats, again.reasoning_seconds) == ("stopped", {"tokens": 3}, 0.25)


def test_missing_message_raises(store: ChatStore) -> None:
    for call in (
        lambda: store.message(42),
        lambda: store.append_reply(42, content="x"),
        lambda: store.finish_reply(42, state="complete"),
        lambda: store.update_message(42, content="x"),
        lambda: store.delete_messages_from(42),
    ):
        with pytest.raises(MessageNotFoundError) as caught:
            call()
        assert isinstance(caught.value, LookupError)
        assert str(caught.value) == "Message 42 no longer exists; it may have been deleted."


def test_update_message(store: ChatStore) -> None:
    chat = store.create_conversation()
    message = store.add_message(chat.id, "user", "Typo hre")
    store.update_message(message.id, content="Typo here")
    assert store.message(message.id).content == "Typo here"


def test_delete_messages_from_cuts_the_tail_of_one_chat(store: ChatStore) -> None:
    chat = store.create_conversation()
    other = store.create_conversation()
    ids = [store.add_message(chat.id, role, text).id for role, text in _dialogue()]
    later_elsewhere = store.add_message(other.id, "user", "unrelated")
    store.delete_messages_from(ids[2])
    assert [m.content for m in store.messages(chat.id)] == ["q1", "a1"]
    assert [m.id for m in store.messages(other.id)] == [later_elsewhere.id]
    # Ids are never reused, so a stale id can't reach a new message.
    new = store.add_message(chat.id, "user", "q2 edited")
    assert new.id > later_elsewhere.id
    with pytest.raises(MessageNotFoundError):
        store.append_reply(ids[3], content="late token")


def _dialogue() -> list[tuple[str, str]]:
    return [("user", "q1"), ("assistant", "a1"), ("user", "q2"), ("assistant", "a2")]


@pytest.mark.parametrize(
    ("text", "limit", "title"),
    [
        ("Hello", 48, "Hello"),
        ("", 48, ""),
        (" \n\t\n", 48, ""),
        ("\n\n  first   line  here \nsecond line", 48, "first line here"),
        ("one two three four", 18, "one two three four"),
        ("one two three four", 17, "one two three…"),
        ("one two three four", 14, "one two three…"),
        ("one two three four", 13, "one two…"),
        ("alpha, betagamma", 12, "alpha…"),
        ("alpha, beta gamma", 12, "alpha, beta…"),
        ("a" * 60, 10, "aaaaaaaaa…"),
        ("ab " + "c" * 60, 10, "ab cccccc…"),
    ],
)
def test_title_from_text(text: str, limit: int, title: str) -> None:
    assert title_from_text(text, limit) == title
    assert len(title_from_text(text, limit)) <= limit


# --- versions of a reply (Regenerate) ------------------------------------------------------------


def _reply(store: ChatStore, chat: int, text: str, *, version_of: int | None = None) -> int:
    message = store.start_reply(chat, version_of=version_of)
    store.append_reply(message.id, content=text)
    store.finish_reply(message.id, state=MessageState.COMPLETE)
    return message.id


def test_a_regenerated_reply_keeps_its_earlier_versions_and_shows_the_newest(
    store: ChatStore,
) -> None:
    chat = store.create_conversation().id
    store.add_message(chat, "user", "Name a color.")
    first = _reply(store, chat, "Red.")
    second = _reply(store, chat, "Blue.", version_of=first)
    third = _reply(store, chat, "Green.", version_of=second)  # any version names the reply

    assert [m.content for m in store.messages(chat)] == ["Name a color.", "Green."]
    assert [m.content for m in store.versions(third)] == ["Red.", "Blue.", "Green."]
    assert [m.id for m in store.versions(first)] == [first, second, third]
    assert store.version_ids(chat) == {first: [first, second, third]}
    assert store.message(third).version_of == first

    store.show_version(second)
    assert [m.content for m in store.messages(chat)] == ["Name a color.", "Blue."]
    # The next turn follows the version shown; the versions stay before it.
    store.add_message(chat, "user", "Another?")
    assert [m.content for m in store.messages(chat)] == ["Name a color.", "Blue.", "Another?"]
    assert len(store.versions(first)) == 3


def test_a_version_of_a_reply_in_another_chat_is_refused(store: ChatStore) -> None:
    one, other = store.create_conversation().id, store.create_conversation().id
    store.add_message(one, "user", "hi")
    reply = _reply(store, one, "hello")
    with pytest.raises(MessageNotFoundError):
        store.start_reply(other, version_of=reply)
    with pytest.raises(MessageNotFoundError):
        store.start_reply(one, version_of=9999)
    assert [m.content for m in store.messages(one)] == ["hi", "hello"]


def test_discarding_a_failed_version_shows_the_one_before(store: ChatStore) -> None:
    chat = store.create_conversation().id
    store.add_message(chat, "user", "hi")
    first = _reply(store, chat, "hello")
    failed = store.start_reply(chat, version_of=first)
    assert [m.content for m in store.messages(chat)] == ["hi", ""]
    shown = store.discard_version(failed.id)
    assert shown is not None and shown.id == first
    assert [m.content for m in store.messages(chat)] == ["hi", "hello"]
    assert store.version_ids(chat) == {first: [first]}


def test_a_version_1_file_is_upgraded_in_place_and_keeps_its_chats(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    raw = _raw(db_path)
    raw.execute(
        "CREATE TABLE conversations (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL,"
        " system_prompt TEXT NOT NULL DEFAULT '', settings TEXT NOT NULL DEFAULT '{}',"
        " thinking TEXT, model_path TEXT, created_at REAL NOT NULL, updated_at REAL NOT NULL)"
    )
    raw.execute(
        "CREATE TABLE messages (id INTEGER PRIMARY KEY AUTOINCREMENT, conversation_id INTEGER"
        " NOT NULL REFERENCES conversations(id) ON DELETE CASCADE, role TEXT NOT NULL,"
        " content TEXT NOT NULL DEFAULT '', reasoning TEXT NOT NULL DEFAULT '',"
        " reasoning_seconds REAL, state TEXT NOT NULL DEFAULT 'complete', model_path TEXT,"
        " settings TEXT NOT NULL DEFAULT '{}', stats TEXT NOT NULL DEFAULT '{}',"
        " created_at REAL NOT NULL)"
    )
    raw.execute("INSERT INTO conversations VALUES (1, 'Old chat', '', '{}', NULL, NULL, 1, 1)")
    raw.execute(
        "INSERT INTO messages (conversation_id, role, content, created_at)"
        " VALUES (1, 'user', 'hi', 1), (1, 'assistant', 'hello', 2)"
    )
    raw.execute("PRAGMA user_version = 1")
    raw.close()

    store, note = open_chat_store(db_path)
    with store:
        assert note is None
        assert [m.content for m in store.messages(1)] == ["hi", "hello"]
        _reply(store, 1, "hey", version_of=2)
        assert [m.content for m in store.messages(1)] == ["hi", "hey"]
    assert _raw(db_path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_salvage_keeps_the_versions_of_a_reply(db_path: Path, tmp_path: Path) -> None:
    with open_chat_store(db_path)[0] as store:
        chat = store.create_conversation().id
        store.add_message(chat, "user", "hi")
        first = _reply(store, chat, "hello")
        _reply(store, chat, "hey", version_of=first)
        store.show_version(first)
    copy, copied = open_readable_copy(db_path, tmp_path / "copy" / "chats.sqlite3")
    with copy:
        assert copied == Salvaged(conversations=1, messages=3)
        assert [m.content for m in copy.messages(chat)] == ["hi", "hello"]
        assert [m.content for m in copy.versions(first)] == ["hello", "hey"]


# --- recovery, threads, processes ----------------------------------------------------------------


def test_reply_left_streaming_becomes_interrupted_on_open(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    with ChatStore(db_path) as first:
        chat = first.create_conversation()
        reply = first.start_reply(chat.id)
        first.append_reply(reply.id, content="half an ans", reasoning="hmm")
        done = first.start_reply(chat.id)
        first.finish_reply(done.id, state="complete")
    with ChatStore(db_path) as second:
        found = second.message(reply.id)
        assert (found.state, found.content, found.reasoning) == (
            "interrupted",
            "half an ans",
            "hmm",
        )
        assert second.message(done.id).state == "complete"
        assert second.recover_interrupted() == 0
        late = second.start_reply(chat.id)
        assert second.recover_interrupted() == 1
        assert second.message(late.id).state == "interrupted"
    with ChatStore(db_path, recover=False) as third:
        streaming = third.start_reply(chat.id)
    with ChatStore(db_path, recover=False) as fourth:
        assert fourth.message(streaming.id).state == "streaming"


def test_two_threads_with_their_own_stores_share_the_file(db_path: Path) -> None:
    pieces = [f"piece {i}; " for i in range(200)]
    gui, _ = open_chat_store(db_path)
    chat = gui.create_conversation()
    half_written, half_seen = threading.Event(), threading.Event()
    reply_ids: list[int] = []
    failures: list[BaseException] = []

    def engine() -> None:
        try:
            with ChatStore(db_path, recover=False) as own:
                reply_ids.append(own.start_reply(chat.id).id)
                for piece in pieces[:100]:
                    own.append_reply(reply_ids[0], content=piece)
                half_written.set()
                half_seen.wait(5)  # so the reader surely reads mid-reply
                for piece in pieces[100:]:
                    own.append_reply(reply_ids[0], content=piece)
                own.finish_reply(reply_ids[0], state="complete")
        except BaseException as error:  # noqa: BLE001 - reported by the test thread
            failures.append(error)
            half_written.set()

    worker = threading.Thread(target=engine)
    worker.start()
    try:
        assert half_written.wait(5)
        assert not failures
        middle = gui.message(reply_ids[0])
        assert (middle.content, middle.state) == ("".join(pieces[:100]), "streaming")
        half_seen.set()
        deadline = time.monotonic() + 5
        while gui.message(reply_ids[0]).state == "streaming" and time.monotonic() < deadline:
            assert "".join(pieces).startswith(gui.message(reply_ids[0]).content)
        done = gui.message(reply_ids[0])
        assert (done.content, done.state) == ("".join(pieces), "complete")
        _assert_only_usable_on_its_own_thread(gui)
    finally:
        half_seen.set()
        worker.join(10)
        gui.close()
    assert not failures
    assert not worker.is_alive()


def _assert_only_usable_on_its_own_thread(store: ChatStore) -> None:
    """Misuse across threads is a programming error, not a HistoryError to show a person."""
    raised: list[BaseException] = []

    def misuse() -> None:
        try:
            store.list_conversations()
        except BaseException as error:  # noqa: BLE001 - whatever it is, the test thread checks it
            raised.append(error)

    other = threading.Thread(target=misuse)
    other.start()
    other.join(5)
    assert len(raised) == 1
    assert type(raised[0]) is sqlite3.ProgrammingError


KILLED_WRITER = """
import sys
from pathlib import Path
from app.core.chat.history import ChatStore

store = ChatStore(Path(sys.argv[1]))
chat = store.create_conversation()
store.add_message(chat.id, "user", "Count for me")
reply = store.start_reply(chat.id)
for i in range(1_000_000):
    store.append_reply(reply.id, content=f"<{i}>", reasoning=f"{i},")
    print(i, flush=True)
"""


def test_a_process_killed_mid_reply_keeps_every_committed_piece(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    writer = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(db_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    reported = -1
    try:
        assert writer.stdout is not None
        for line in writer.stdout:
            reported = int(line)
            if reported >= 49:
                break
        writer.kill()  # SIGKILL: no cleanup, no close, no final commit
    finally:
        writer.kill()
        writer.wait()
        error_output = writer.stderr.read() if writer.stderr else ""
        for stream in (writer.stdout, writer.stderr):
            if stream is not None:
                stream.close()
    assert reported == 49, error_output

    store, note = open_chat_store(db_path)
    with store:
        assert note is None
        [chat] = store.list_conversations()
        assert chat.title == "Count for me"
        question, reply = store.messages(chat.id)
        assert (question.role, question.content) == ("user", "Count for me")
        assert reply.state == "interrupted"
        numbers = [int(n) for n in re.findall(r"<(\d+)>", reply.content)]
        assert len(numbers) >= 50
        assert reply.content == "".join(f"<{i}>" for i in range(len(numbers)))
        assert reply.reasoning == "".join(f"{i}," for i in range(len(numbers)))


# --- damaged, foreign and unreachable files ------------------------------------------------------


def test_random_bytes_are_moved_aside_and_a_fresh_store_opens(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    junk = os.urandom(10_000)
    db_path.write_bytes(junk)
    Path(f"{db_path}-wal").write_bytes(b"stale wal")
    store, note = open_chat_store(db_path)
    with store:
        kept = _only_kept_copy(db_path)
        assert kept.read_bytes() == junk
        assert Path(f"{kept}-wal").read_bytes() == b"stale wal"
        assert note is not None and str(kept) in note
        assert note.startswith("Your chat history was damaged (file is not a database)")
        chat = store.create_conversation("Fresh")
        assert [c.title for c in store.list_conversations()] == ["Fresh"]
        assert store.messages(chat.id) == []


def test_truncated_database_is_moved_aside(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    with ChatStore(db_path) as filling:
        chat = filling.create_conversation()
        for i in range(200):
            filling.add_message(chat.id, "user", f"message {i} " + "x" * 1000)
    whole = db_path.read_bytes()
    assert not Path(f"{db_path}-wal").exists()  # closing checkpointed everything into the file
    db_path.write_bytes(whole[: len(whole) // 2])

    store, note = open_chat_store(db_path)
    with store:
        kept = _only_kept_copy(db_path)
        assert kept.read_bytes() == whole[: len(whole) // 2]
        assert note is not None and str(kept) in note
        # The first half of the file still held the chat and its oldest messages.
        [chat] = store.list_conversations()
        recovered = store.messages(chat.id)
        assert 0 < len(recovered) < 200
        assert f"1 chat and {len(recovered)} messages recovered" in note
        assert [m.content for m in recovered] == [
            f"message {i} " + "x" * 1000 for i in range(len(recovered))
        ]
        store.create_conversation("Fresh")


def _only_kept_copy(db_path: Path) -> Path:
    [kept] = db_path.parent.glob(f"{db_path.name}.corrupt-*[0-9]")
    assert re.fullmatch(rf"{re.escape(db_path.name)}\.corrupt-\d{{8}}-\d{{6}}", kept.name)
    return kept


def test_a_newer_version_is_refused_and_left_untouched(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    raw = sqlite3.connect(db_path)
    raw.execute("CREATE TABLE future (x)")
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.commit()
    raw.close()
    before = (db_path.read_bytes(), db_path.stat().st_mtime_ns)
    files_before = sorted(db_path.parent.iterdir())

    for opening in (open_chat_store, ChatStore):
        with pytest.raises(HistoryFileError) as caught:
            opening(db_path)
        assert "newer version of Quantdesk" in str(caught.value)
        assert "Update Quantdesk" in str(caught.value)
        assert caught.value.path == db_path
    assert (db_path.read_bytes(), db_path.stat().st_mtime_ns) == before
    assert sorted(db_path.parent.iterdir()) == files_before


def test_an_unwritable_folder_is_a_history_error_naming_it(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be")
    with pytest.raises(HistoryFileError) as caught:
        open_chat_store(blocker / "chats.sqlite3")
    assert str(blocker) in str(caught.value)
    assert str(caught.value).startswith("Can't keep the chat history in ")


@pytest.mark.skipif(
    os.name == "nt" or os.geteuid() == 0, reason="needs POSIX permissions that bind"
)
def test_a_read_only_folder_is_a_history_error_naming_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(HistoryFileError) as caught:
            open_chat_store(folder / "chats.sqlite3")
    finally:
        folder.chmod(0o700)
    assert str(folder / "chats.sqlite3") in str(caught.value)


# --- the environment getting in the way ---------------------------------------------------------


def test_a_full_disk_is_a_sentence_and_the_store_works_once_space_is_freed(
    tmp_path: Path,
) -> None:
    from tests.disks import fill, tiny_disk

    with tiny_disk(tmp_path / "disk") as disk:
        store, _ = open_chat_store(disk / "chats.sqlite3")
        try:
            chat = store.create_conversation()
            filler = fill(disk)
            with pytest.raises(HistoryFileError) as caught:
                store.add_message(chat.id, "user", "hello " * 2000)
            assert caught.value.reason.startswith("the disk is full. Free some space on it")
            assert str(caught.value).startswith(f"Couldn't save the chat history at {disk}")
            filler.unlink()
            # SQLite rolls a COMMIT that failed for space back: nothing is left half-open.
            store.add_message(chat.id, "user", "hello again")
            assert [m.content for m in store.messages(chat.id)] == ["hello again"]
        finally:
            store.close()


def test_a_database_locked_by_another_program_is_a_sentence(
    store: ChatStore, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.core.chat import history
    from tests.disks import locked

    chat = store.create_conversation()
    monkeypatch.setattr(history, "BUSY_TIMEOUT_MS", 100)
    with (
        ChatStore(db_path, recover=False) as impatient,
        locked(db_path),
        pytest.raises(HistoryFileError) as caught,
    ):
        impatient.add_message(chat.id, "user", "hello")
    assert caught.value.reason.startswith("another program is using the chat history. Close it")
    store.add_message(chat.id, "user", "hello")  # the lock is gone, so is the problem


# --- hostile bytes and faults at start-up (issue 14, item 4) -----------------------------------


def _history_with_chats(db_path: Path, chats: int = 2, messages: int = 3) -> dict[int, list[str]]:
    """A closed history holding `chats` chats of `messages` messages; returns their texts."""
    texts: dict[int, list[str]] = {}
    db_path.parent.mkdir(parents=True, exist_ok=True)
    with ChatStore(db_path) as filling:
        for c in range(chats):
            chat = filling.create_conversation(f"Chat {c}")
            texts[chat.id] = []
            for m in range(messages):
                text = f"chat {c} message {m} " + "x" * 1500
                filling.add_message(chat.id, "user" if m % 2 == 0 else "assistant", text)
                texts[chat.id].append(text)
    return texts


def test_bad_utf8_bytes_read_as_replacement_characters_and_the_chat_opens(db_path: Path) -> None:
    texts = _history_with_chats(db_path, chats=1)
    [chat_id] = texts
    raw = _raw(db_path)
    # One byte that is not UTF-8 in a message, its reasoning and the chat's title.
    raw.execute("UPDATE messages SET content = CAST(x'68656cff6c6f' AS TEXT) WHERE id = 1")
    raw.execute("UPDATE messages SET reasoning = CAST(x'c328' AS TEXT) WHERE id = 2")
    raw.execute("UPDATE conversations SET title = CAST(x'54c3a974c3' AS TEXT)")
    assert raw.execute("PRAGMA quick_check").fetchall() == [("ok",)]  # SQLite sees no damage
    raw.close()

    store, note = open_chat_store(db_path)
    with store:
        assert note is None
        [chat] = store.list_conversations()
        assert chat.title == "Tét\ufffd"
        assert [c.id for c in store.list_conversations("tét")] == [chat.id]  # search still works
        shown = store.messages(chat_id)
        assert shown[0].content == "hel\ufffdlo"
        assert shown[1].reasoning == "\ufffd("
        assert [m.content for m in shown[2:]] == texts[chat_id][2:]
        store.add_message(chat_id, "user", "still writable")


def test_settings_that_are_not_json_read_as_empty_and_the_chat_opens(db_path: Path) -> None:
    texts = _history_with_chats(db_path, chats=1, messages=1)
    raw = _raw(db_path)
    raw.execute("UPDATE conversations SET settings = '{not json'")
    raw.execute("UPDATE messages SET stats = '[1, 2]', settings = 'null'")
    raw.close()
    with open_chat_store(db_path)[0] as store:
        [chat] = store.list_conversations()
        assert chat.settings == {}
        [message] = store.messages(chat.id)
        assert (message.settings, message.stats) == ({}, {})
        assert message.content == texts[chat.id][0]


def _page_of_row(db_path: Path, table: str, row_id: int) -> int:
    """The page number holding a row (SQLite's dbstat table), to damage exactly that page."""
    raw = _raw(db_path)
    try:
        [(page,)] = raw.execute(
            "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' AND pageno IN"
            " (SELECT pageno FROM dbstat WHERE name = ?) ORDER BY pageno LIMIT 1 OFFSET ?",
            (table, table, row_id),
        ).fetchall()
    except sqlite3.OperationalError as error:
        pytest.skip(f"this SQLite has no dbstat table: {error}")
    finally:
        raw.close()
    return int(page)


def test_a_damaged_database_is_salvaged_row_by_row_into_a_new_one(db_path: Path) -> None:
    texts = _history_with_chats(db_path, chats=3, messages=10)
    raw = _raw(db_path)
    page_size = raw.execute("PRAGMA page_size").fetchone()[0]
    raw.execute("UPDATE messages SET state = 'streaming' WHERE id = 30")
    raw.close()
    # Garbage over one leaf page of the messages table, in the middle: its rows are lost.
    page = _page_of_row(db_path, "messages", 10)
    with db_path.open("r+b") as file:
        file.seek((page - 1) * page_size)
        file.write(b"\xa5" * page_size)

    store, note = open_chat_store(db_path)
    with store:
        kept = _only_kept_copy(db_path)
        chats = store.list_conversations()
        assert sorted(c.title for c in chats) == ["Chat 0", "Chat 1", "Chat 2"]
        recovered = [m for c in chats for m in store.messages(c.id)]
        everything = [text for chat_texts in texts.values() for text in chat_texts]
        assert 0 < len(recovered) < len(everything)  # one page lost, the rest kept
        for message in recovered:  # each one whole, in its own chat, under its own id
            assert message.content == texts[message.conversation_id][(message.id - 1) % 10]
        assert store.message(30).state == "interrupted"  # it was streaming when damaged
        assert note == (
            "Your chat history was damaged (" + note.split("(", 1)[1].split(")", 1)[0] + "), "
            f"so a new one was started with what could still be read: 3 chats and "
            f"{len(recovered)} messages recovered. The old file was kept as {kept}."
        )
        store.add_message(chats[0].id, "user", "and it goes on")


def test_salvage_puts_messages_whose_chat_is_lost_in_a_chat_of_their_own(
    db_path: Path, tmp_path: Path
) -> None:
    _history_with_chats(db_path, chats=2, messages=2)
    raw = _raw(db_path)
    raw.execute("PRAGMA foreign_keys = OFF")
    raw.execute("DELETE FROM conversations WHERE id = 2")
    raw.execute("UPDATE messages SET role = 'narrator' WHERE id = 1")  # whose words? unknown
    raw.close()
    with ChatStore(tmp_path / "new.sqlite3") as new:
        assert salvage(db_path, new) == Salvaged(conversations=1, messages=3)
        titles = {c.title: c.id for c in new.list_conversations()}
        assert set(titles) == {"Chat 0", "Recovered messages"}
        assert [m.id for m in new.messages(titles["Chat 0"])] == [2]
        assert [m.id for m in new.messages(titles["Recovered messages"])] == [3, 4]


def _untouched(path: Path) -> tuple[bytes, int]:
    return path.read_bytes(), path.stat().st_mtime_ns


def test_a_read_only_history_says_so_and_a_copy_still_reads_it(
    db_path: Path, tmp_path: Path
) -> None:
    from tests.disks import read_only

    texts = _history_with_chats(db_path)
    before = _untouched(db_path)
    with read_only(db_path):
        with pytest.raises(HistoryFileError) as caught:
            open_chat_store(db_path)
        assert caught.value.reason.startswith("the file is read-only. Make it yours again")
        assert f"sudo chown -R {getpass.getuser()} {db_path.parent}" in caught.value.reason
        copy, copied = open_readable_copy(db_path, tmp_path / "copy" / "chats.sqlite3")
        with copy:
            assert copied == Salvaged(conversations=2, messages=6)
            for chat_id, chat_texts in texts.items():
                assert [m.content for m in copy.messages(chat_id)] == chat_texts
    assert _untouched(db_path) == before


def test_a_read_only_folder_says_so_and_a_copy_still_reads_it(
    db_path: Path, tmp_path: Path
) -> None:
    from tests.disks import read_only

    _history_with_chats(db_path)
    before = _untouched(db_path)
    with read_only(db_path.parent):
        with pytest.raises(HistoryFileError) as caught:
            open_chat_store(db_path)
        assert caught.value.reason.startswith(f"its folder {db_path.parent} is read-only.")
        # SQLite can't make the -shm file it reads a WAL database with: read the file alone.
        copy, copied = open_readable_copy(db_path, tmp_path / "copy" / "chats.sqlite3")
        with copy:
            assert copied == Salvaged(conversations=2, messages=6)
    assert _untouched(db_path) == before


def test_no_free_space_at_start_up_says_so_and_a_copy_still_reads_it(tmp_path: Path) -> None:
    from tests.disks import fill, tiny_disk

    with tiny_disk(tmp_path / "disk") as disk:
        db_path = disk / "chats.sqlite3"
        _history_with_chats(db_path)
        fill(disk)
        with pytest.raises(HistoryFileError) as caught:
            open_chat_store(db_path)
        assert caught.value.reason == "the disk is full. Free some space on it, then try again."
        copy, copied = open_readable_copy(db_path, tmp_path / "copy" / "chats.sqlite3")
        with copy:
            assert copied == Salvaged(conversations=2, messages=6)


def test_a_lock_held_at_start_up_says_so_and_a_copy_still_reads_it(
    db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.core.chat import history
    from tests.disks import locked

    _history_with_chats(db_path)
    monkeypatch.setattr(history, "BUSY_TIMEOUT_MS", 100)  # the lock outlasts the wait for it
    with locked(db_path):
        with pytest.raises(HistoryFileError) as caught:
            open_chat_store(db_path)
        assert caught.value.reason.startswith("another program is using the chat history.")
        copy, copied = open_readable_copy(db_path, tmp_path / "copy" / "chats.sqlite3")
        with copy:
            assert copied == Salvaged(conversations=2, messages=6)


def test_a_newer_version_is_not_copied(db_path: Path, tmp_path: Path) -> None:
    _history_with_chats(db_path)
    raw = _raw(db_path)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.close()
    copy, copied = open_readable_copy(db_path, tmp_path / "copy" / "chats.sqlite3")
    with copy:
        assert copied is None
        assert copy.list_conversations() == []


def test_a_checkpoint_puts_every_chat_in_the_file_itself(
    store: ChatStore, db_path: Path, tmp_path: Path
) -> None:
    chat = store.create_conversation()
    store.add_message(chat.id, "user", "in the file, not only the WAL")
    assert store.checkpoint()
    alone = tmp_path / "alone.sqlite3"
    alone.write_bytes(db_path.read_bytes())  # the main file without its -wal
    raw = _raw(alone)
    assert raw.execute("SELECT content FROM messages").fetchall() == [
        ("in the file, not only the WAL",)
    ]
    raw.close()


def test_chats_follow_their_models_when_the_models_folder_moves(
    store: ChatStore, tmp_path: Path
) -> None:
    old, new = tmp_path / "models", tmp_path / "bigger-disk" / "models"
    inside = str(old / "imported" / "mine-Q4_1.gguf")
    elsewhere = str(tmp_path / "Downloads" / "other-Q8_0.gguf")
    owls = store.create_conversation("Owls")
    store.add_message(owls.id, "user", "Tell me about owls", model_path=inside)
    store.add_message(owls.id, "assistant", "They hoot.", model_path=inside)
    cats = store.create_conversation("Cats")
    store.add_message(cats.id, "user", "Tell me about cats", model_path=elsewhere)
    listed = [c.id for c in store.list_conversations()]

    assert store.follow_moved_models(old, new) == 1
    moved = str(new / "imported" / "mine-Q4_1.gguf")
    assert store.conversation(owls.id).model_path == moved
    assert {m.model_path for m in store.messages(owls.id)} == {moved}
    assert store.conversation(cats.id).model_path == elsewhere  # outside the folder: kept
    assert [c.id for c in store.list_conversations()] == listed  # no chat became "recent"
    assert store.follow_moved_models(old, new) == 0
