"""The append-only, hash-chained audit ledger."""

from hallmark.ledger.chain import GENESIS_HASH, ChainBreak, Entry, canonical_json, walk_chain
from hallmark.ledger.service import Checkpoint, Ledger, VerifyReport, verify_entries
from hallmark.ledger.signing import Signer, Verifier

__all__ = [
    "GENESIS_HASH",
    "ChainBreak",
    "Checkpoint",
    "Entry",
    "Ledger",
    "Signer",
    "Verifier",
    "VerifyReport",
    "canonical_json",
    "verify_entries",
    "walk_chain",
]
