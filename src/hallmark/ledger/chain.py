"""The hash chain, as pure functions: canonical JSON, entry hashes, and chain verification.

Each entry's hash covers its sequence number, time, tenant, kind, payload and the previous
entry's hash, so editing, deleting, inserting or reordering any entry breaks the chain at that
entry. Hashes carry a tagged prefix (``sha256:``) so the scheme can change later.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

HASH_PREFIX = "sha256:"
GENESIS_HASH = HASH_PREFIX + "0" * 64
SCHEME_VERSION = 1


def canonical_json(value: Any) -> str:
    """One text per value: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(
    *,
    seq: int,
    created_at: str,
    tenant_id: str | None,
    kind: str,
    payload: Any,
    prev_hash: str,
) -> str:
    body = canonical_json(
        {
            "v": SCHEME_VERSION,
            "seq": seq,
            "created_at": created_at,
            "tenant_id": tenant_id,
            "kind": kind,
            "payload": payload,
            "prev": prev_hash,
        }
    )
    return HASH_PREFIX + hashlib.sha256(body.encode("utf-8")).hexdigest()


@dataclass(slots=True, frozen=True)
class Entry:
    seq: int
    created_at: str
    tenant_id: str | None
    kind: str
    payload: Any
    prev_hash: str
    hash: str

    def expected_hash(self) -> str:
        return entry_hash(
            seq=self.seq,
            created_at=self.created_at,
            tenant_id=self.tenant_id,
            kind=self.kind,
            payload=self.payload,
            prev_hash=self.prev_hash,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "created_at": self.created_at,
            "tenant_id": self.tenant_id,
            "kind": self.kind,
            "payload": self.payload,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


@dataclass(slots=True, frozen=True)
class ChainBreak:
    """The first entry where the chain does not hold, and why."""

    seq: int
    reason: str

    def __str__(self) -> str:
        return f"entry {self.seq}: {self.reason}"


@dataclass(slots=True, frozen=True)
class ChainEnd:
    """Where a walk of the chain stopped: the last entry seen and how many were checked."""

    seq: int
    hash: str
    checked: int


def walk_chain(
    entries: Iterable[Entry], *, start_seq: int = 0, start_hash: str = GENESIS_HASH
) -> ChainBreak | ChainEnd:
    """Check entries in order from an anchor (genesis, or a pruning checkpoint).

    Returns the first break found, or where the intact chain ends.
    """
    expected_seq, running_hash, checked = start_seq + 1, start_hash, 0
    for entry in entries:
        if entry.seq < expected_seq:
            return ChainBreak(entry.seq, f"out of order: expected entry {expected_seq} here")
        if entry.seq > expected_seq:
            missing = (
                f"entry {expected_seq} is missing"
                if entry.seq == expected_seq + 1
                else f"entries {expected_seq}..{entry.seq - 1} are missing"
            )
            return ChainBreak(entry.seq, f"{missing} (deleted)")
        if entry.prev_hash != running_hash:
            return ChainBreak(
                entry.seq, "does not link to the entry before it (inserted, reordered or edited)"
            )
        if entry.expected_hash() != entry.hash:
            return ChainBreak(entry.seq, "its content does not match its hash (edited)")
        running_hash, expected_seq, checked = entry.hash, expected_seq + 1, checked + 1
    return ChainEnd(seq=expected_seq - 1, hash=running_hash, checked=checked)


def head_message(seq: int, hash_: str) -> bytes:
    """What the head signature covers."""
    return f"hallmark-ledger-head:v1:{seq}:{hash_}".encode()


def checkpoint_message(upto_seq: int, upto_hash: str, created_at: str) -> bytes:
    return f"hallmark-ledger-checkpoint:v1:{upto_seq}:{upto_hash}:{created_at}".encode()
