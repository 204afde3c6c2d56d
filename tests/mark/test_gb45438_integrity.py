"""ReservedCode1/2: HMAC-SHA256 under a key in HALLMARK_HOME/keys; valid, invalid, or
unverifiable when the code is another service's."""

from __future__ import annotations

import stat
from pathlib import Path

from hallmark.mark.gb45438 import AIGCFields, IntegrityKey, KeyStore, verify
from hallmark.mark.gb45438.integrity import KEY_FILE

DIGEST = "sha256:" + "ab" * 32
FIELDS = AIGCFields(ContentProducer="001191110102MACQD9K64010000", ProduceID="p1")


def test_the_key_is_created_once_private_and_reused(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    assert IntegrityKey.load(keys) is None
    first = IntegrityKey.load_or_create(keys)
    path = keys / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(path.read_bytes()) == 32
    assert IntegrityKey.load_or_create(keys).key_id == first.key_id
    assert not [p for p in keys.iterdir() if p.name.startswith(".")]  # no temp file left


def test_codes_are_hex_with_our_key_id(tmp_path: Path) -> None:
    key = IntegrityKey.load_or_create(tmp_path)
    code = key.seal("ReservedCode1", FIELDS, DIGEST)
    assert len(code) == 80 and int(code, 16) >= 0 and code.startswith(key.key_id)
    assert KeyStore(tmp_path).for_writing().key_id == key.key_id


def test_valid_invalid_unverifiable(tmp_path: Path) -> None:
    key = IntegrityKey.load_or_create(tmp_path / "ours")
    other = IntegrityKey.load_or_create(tmp_path / "theirs")
    sealed = FIELDS.with_values(ReservedCode1=key.seal("ReservedCode1", FIELDS, DIGEST))
    assert verify(sealed, DIGEST, key)[0] == "valid"
    assert verify(sealed, "sha256:" + "cd" * 32, key)[0] == "invalid"  # content changed
    assert verify(sealed.with_values(ProduceID="p2"), DIGEST, key)[0] == "invalid"
    assert verify(sealed, DIGEST, other)[0] == "unverifiable"  # not our key
    assert verify(sealed, DIGEST, None)[0] == "unverifiable"  # we have no key at all
    foreign = FIELDS.with_values(ReservedCode1="3045022100deadbeef")
    assert verify(foreign, DIGEST, key)[0] == "unverifiable"


def test_the_propagators_code_decides_once_present(tmp_path: Path) -> None:
    key = IntegrityKey.load_or_create(tmp_path)
    producer = FIELDS.with_values(ReservedCode1="3045022100deadbeef")  # another service's
    propagated = producer.with_values(ContentPropagator="001", PropagateID="q")
    propagated = propagated.with_values(ReservedCode2=key.seal("ReservedCode2", propagated, DIGEST))
    overall, codes = verify(propagated, DIGEST, key)
    assert (overall, codes) == (
        "valid",
        {"ReservedCode1": "unverifiable", "ReservedCode2": "valid"},
    )
    # ReservedCode2 covers ReservedCode1 and the producer's fields too
    assert verify(propagated.with_values(ProduceID="x"), DIGEST, key)[0] == "invalid"
    assert verify(propagated.with_values(ReservedCode1="00"), DIGEST, key)[0] == "invalid"
