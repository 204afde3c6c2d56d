"""The pure hash chain: every kind of tampering breaks it at the right entry."""

from __future__ import annotations

from dataclasses import replace

from hallmark.ledger.chain import GENESIS_HASH, ChainBreak, ChainEnd, Entry, entry_hash, walk_chain


def build(n: int) -> list[Entry]:
    entries, prev = [], GENESIS_HASH
    for seq in range(1, n + 1):
        payload = {"n": seq, "text": "AI生成"}
        digest = entry_hash(
            seq=seq,
            created_at=f"2026-01-01T00:00:{seq:02d}.000000Z",
            tenant_id="t1",
            kind="test",
            payload=payload,
            prev_hash=prev,
        )
        entries.append(
            Entry(seq, f"2026-01-01T00:00:{seq:02d}.000000Z", "t1", "test", payload, prev, digest)
        )
        prev = digest
    return entries


def test_intact_chain_walks_to_its_end() -> None:
    entries = build(5)
    result = walk_chain(entries)
    assert result == ChainEnd(seq=5, hash=entries[-1].hash, checked=5)


def test_edited_payload_breaks_at_that_entry() -> None:
    entries = build(5)
    entries[2] = replace(entries[2], payload={"n": 3, "text": "edited"})
    result = walk_chain(entries)
    assert isinstance(result, ChainBreak) and result.seq == 3 and "edited" in result.reason


def test_deleted_entry_is_named() -> None:
    entries = build(5)
    del entries[1]
    result = walk_chain(entries)
    assert isinstance(result, ChainBreak) and result.seq == 3
    assert "entry 2 is missing" in result.reason


def test_reordered_entries_break_the_chain() -> None:
    entries = build(5)
    entries[1], entries[2] = entries[2], entries[1]
    result = walk_chain(entries)
    assert isinstance(result, ChainBreak) and result.seq == 3


def test_inserted_entry_with_recomputed_hash_breaks_the_link() -> None:
    entries = build(3)
    forged_payload = {"n": 2, "text": "forged"}
    forged = Entry(2, entries[1].created_at, "t1", "test", forged_payload, "sha256:" + "1" * 64, "")
    forged = replace(forged, hash=forged.expected_hash())
    entries[1] = forged
    result = walk_chain(entries)
    assert isinstance(result, ChainBreak) and result.seq == 2 and "link" in result.reason


def test_chain_resumes_from_a_checkpoint() -> None:
    entries = build(6)
    result = walk_chain(entries[3:], start_seq=3, start_hash=entries[2].hash)
    assert isinstance(result, ChainEnd) and result.checked == 3
