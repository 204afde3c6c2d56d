"""The conversation store: a round trip, ordered messages, isolation, titles and retention."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from hallmark.assistant.conversations import (
    NewMessage,
    append_messages,
    create_conversation,
    delete_conversation,
    get_conversation,
    list_conversations,
    prune_conversations,
)
from hallmark.errors import NotFound, UserError
from hallmark.services import Services
from hallmark.store.models import ChatMessageRecord

ALICE, BOB = "alice", "bob"
OCTOBER = "2026-10-01T00:00:00.000000Z"


def at(moment: str) -> Callable[[], str]:
    """A clock stopped at ``moment`` (``utcnow_iso``'s format)."""
    return lambda: moment


def test_a_conversation_round_trips_through_append_list_export_and_delete(
    services: Services, tenants: dict[str, str]
) -> None:
    acme = tenants["acme"]
    call = {"id": "call_1", "type": "function", "function": {"name": "inspect", "arguments": "{}"}}
    screening = {"screening": {"input": {"action": "allow"}}, "labels": ["explicit"], "seq": 7}
    with services.db.session() as session:
        started = create_conversation(
            session, acme, ALICE, model="echo", minor=True, jurisdictions=("cn", "eu")
        )
        seqs = append_messages(
            session,
            acme,
            ALICE,
            started.id,
            [
                NewMessage("system", "Be brief."),
                NewMessage("user", "  What is\nGB 45438?  "),
                NewMessage("assistant", "", tool_calls=[call]),
                NewMessage("tool", '{"verdict": "none"}', tool_call_id="call_1"),
                NewMessage("assistant", "【AI生成】A labeling standard.", hallmark=screening),
            ],
        )
    assert seqs == [1, 2, 3, 4, 5]

    with services.db.session() as session:
        listed = list_conversations(session, acme, ALICE)
        exported = get_conversation(session, acme, ALICE, started.id)
    assert [item.id for item in listed] == [started.id]
    summary = exported.summary
    assert (summary.title, summary.model, summary.minor) == ("What is GB 45438?", "echo", True)
    assert summary.jurisdictions == ("cn", "eu") and summary.message_count == 5
    assert listed[0] == summary
    assert [m.role for m in exported.messages] == [
        "system",
        "user",
        "assistant",
        "tool",
        "assistant",
    ]
    assert exported.messages[2].tool_calls == [call] and exported.messages[2].content == ""
    assert exported.messages[3].tool_call_id == "call_1"
    assert exported.messages[4].hallmark == screening
    body = exported.to_dict()
    assert body["id"] == started.id and body["user"] == ALICE
    assert body["messages"][1] == {
        "seq": 2,
        "role": "user",
        "content": "  What is\nGB 45438?  ",
        "tool_calls": [],
        "tool_call_id": None,
        "hallmark": None,
        "created_at": exported.messages[1].created_at,
    }

    with services.db.session() as session:
        delete_conversation(session, acme, ALICE, started.id)
    with services.db.session() as session:
        assert list_conversations(session, acme, ALICE) == []
        with pytest.raises(NotFound):
            get_conversation(session, acme, ALICE, started.id)
        left = session.scalar(select(func.count()).select_from(ChatMessageRecord))
    assert left == 0  # the messages went with it


def test_appends_continue_the_seq_and_keep_the_first_title(
    services: Services, tenants: dict[str, str]
) -> None:
    acme = tenants["acme"]
    with services.db.session() as session:
        started = create_conversation(session, acme, ALICE, clock=at("2026-12-10T09:00:00.000000Z"))
        first = append_messages(session, acme, ALICE, started.id, [NewMessage("user", "x" * 100)])
        second = append_messages(
            session,
            acme,
            ALICE,
            started.id,
            [NewMessage("assistant", "ok"), NewMessage("user", "another title?")],
            clock=at("2026-12-10T10:00:00.000000Z"),
        )
        found = get_conversation(session, acme, ALICE, started.id)
    assert (first, second) == ([1], [2, 3])
    assert [m.seq for m in found.messages] == [1, 2, 3]
    assert found.summary.title == "x" * 60
    assert found.summary.created_at == "2026-12-10T09:00:00.000000Z"
    assert found.summary.updated_at == "2026-12-10T10:00:00.000000Z"


def test_concurrent_appends_get_distinct_consecutive_seqs(
    services: Services, tenants: dict[str, str]
) -> None:
    acme = tenants["acme"]
    with services.db.session() as session:
        started = create_conversation(session, acme, ALICE)
    failures: list[BaseException] = []

    def append_many(name: str) -> None:
        try:
            for number in range(8):
                with services.db.session() as session:
                    append_messages(
                        session,
                        acme,
                        ALICE,
                        started.id,
                        [NewMessage("user", f"{name}{number}"), NewMessage("assistant", "ok")],
                    )
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=append_many, args=(name,)) for name in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with services.db.session() as session:
        messages = get_conversation(session, acme, ALICE, started.id).messages
    assert [m.seq for m in messages] == list(range(1, 33))
    # Each append's two messages stay together: a question is followed by its answer.
    assert [m.role for m in messages] == ["user", "assistant"] * 16


def test_another_tenants_or_users_conversation_is_not_found(
    services: Services, tenants: dict[str, str]
) -> None:
    acme, other = tenants["acme"], tenants["other"]
    with services.db.session() as session:
        mine = create_conversation(session, acme, ALICE)
        append_messages(session, acme, ALICE, mine.id, [NewMessage("user", "secret")])
    strangers = [(other, ALICE), (acme, BOB)]
    for tenant_id, user_id in strangers:
        with services.db.session() as session:
            with pytest.raises(NotFound, match="no conversation") as caught:
                get_conversation(session, tenant_id, user_id, mine.id)
            assert caught.value.message == f"no conversation {mine.id!r}"  # as if missing
            with pytest.raises(NotFound):
                append_messages(session, tenant_id, user_id, mine.id, [NewMessage("user", "x")])
            with pytest.raises(NotFound):
                delete_conversation(session, tenant_id, user_id, mine.id)
            assert list_conversations(session, tenant_id, user_id) == []
            with pytest.raises(NotFound):
                list_conversations(session, tenant_id, user_id, before=mine.id)
    with services.db.session() as session:
        assert get_conversation(session, acme, ALICE, mine.id).summary.message_count == 1
        assert [c.id for c in list_conversations(session, acme, None)] == [mine.id]
        assert list_conversations(session, other, None) == []


def test_listing_is_newest_first_and_pages_with_before(
    services: Services, tenants: dict[str, str]
) -> None:
    acme = tenants["acme"]
    ids = []
    with services.db.session() as session:
        for hour in range(5):
            moment = at(f"2026-12-10T0{hour}:00:00.000000Z")
            ids.append(create_conversation(session, acme, ALICE, clock=moment).id)
        # Touching the oldest makes it the newest.
        append_messages(
            session,
            acme,
            ALICE,
            ids[0],
            [NewMessage("user", "hi")],
            clock=at("2026-12-11T00:00:00.000000Z"),
        )
        first = list_conversations(session, acme, ALICE, limit=2)
        second = list_conversations(session, acme, ALICE, limit=2, before=first[-1].id)
        rest = list_conversations(session, acme, ALICE, limit=2, before=second[-1].id)
    assert [c.id for c in first + second + rest] == [ids[0], ids[4], ids[3], ids[2], ids[1]]
    assert first[0].message_count == 1 and second[0].message_count == 0


def test_prune_removes_only_conversations_untouched_past_the_cutoff(
    services: Services, tenants: dict[str, str]
) -> None:
    acme, other = tenants["acme"], tenants["other"]
    with services.db.session() as session:
        old = create_conversation(session, acme, ALICE, clock=at(OCTOBER))
        append_messages(
            session, acme, ALICE, old.id, [NewMessage("user", "old")], clock=at(OCTOBER)
        )
        elsewhere = create_conversation(session, other, BOB, clock=at(OCTOBER))
        revived = create_conversation(session, acme, ALICE, clock=at(OCTOBER))
        append_messages(
            session,
            acme,
            ALICE,
            revived.id,
            [NewMessage("user", "back")],
            clock=at("2026-12-01T00:00:00.000000Z"),
        )
        # Exactly 30 days untouched is not yet older than 30 days.
        fresh = create_conversation(session, acme, BOB, clock=at("2026-11-10T00:00:00.000000Z"))
    now = at("2026-12-10T00:00:00.000000Z")
    with services.db.session() as session:
        assert prune_conversations(session, older_than_days=30, clock=now) == 2
    with services.db.session() as session:
        kept = {c.id for c in list_conversations(session, acme, None)}
        kept |= {c.id for c in list_conversations(session, other, None)}
        messages = session.scalars(select(ChatMessageRecord.content)).all()
        assert prune_conversations(session, older_than_days=30, clock=now) == 0
    assert kept == {revived.id, fresh.id}
    assert elsewhere.id not in kept and old.id not in kept
    assert messages == ["back"]


@pytest.mark.parametrize(
    ("message", "problem"),
    [
        (NewMessage("robot", "hi"), "unknown message role 'robot'"),
        (NewMessage("tool", "{}"), "needs the tool_call_id"),
        (NewMessage("tool", "{}", tool_call_id="c" * 65), "tool_call_id is longer than 64"),
    ],
)
def test_a_bad_message_is_refused_and_nothing_is_stored(
    services: Services, tenants: dict[str, str], message: NewMessage, problem: str
) -> None:
    acme = tenants["acme"]
    with services.db.session() as session:
        started = create_conversation(session, acme, ALICE)
    with pytest.raises(UserError, match=problem), services.db.session() as session:
        append_messages(session, acme, ALICE, started.id, [NewMessage("user", "ok"), message])
    with services.db.session() as session:
        assert get_conversation(session, acme, ALICE, started.id).messages == ()


@pytest.mark.parametrize(
    ("user", "fields", "problem"),
    [
        ("", {}, "user must not be empty"),
        ("u" * 101, {}, "user is longer than 100"),
        (ALICE, {"title": "t" * 201}, "title is longer than 200"),
        (ALICE, {"model": "m" * 101}, "model is longer than 100"),
    ],
)
def test_a_bad_conversation_is_refused(
    services: Services, tenants: dict[str, str], user: str, fields: dict[str, str], problem: str
) -> None:
    with pytest.raises(UserError, match=problem), services.db.session() as session:
        create_conversation(session, tenants["acme"], user, **fields)  # type: ignore[arg-type]
