"""ReservedCode1 / ReservedCode2: hallmark's integrity values for an AIGC label.

GB 45438-2025 leaves the form of these codes to the provider. hallmark's choice:

* the value is HMAC-SHA256 under a secret key kept in ``HALLMARK_HOME/keys/gb45438-hmac.key``
  (32 random bytes, created on first use, mode 0600), written as hex: 16 hex digits of key id
  (HMAC of a fixed string, so the key is never exposed) followed by the 64-digit MAC;
* ReservedCode1 (the producer's) covers Label, ContentProducer and ProduceID; ReservedCode2 (the
  propagator's) covers the six other fields, ReservedCode1 included; both also cover the SHA-256
  of the content's bytes without metadata (each container module defines those bytes), so an
  edited field or an edited pixel breaks the code;
* a code whose key id is not ours is "unverifiable": another service's code, which only that
  service can check. A symmetric key suits a label that only its writer verifies; a public
  signature would need a key distribution the standard does not define yet.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path
from typing import Literal

from hallmark import keyfiles
from hallmark.mark.gb45438.fields import PRODUCER_FIELDS, PROPAGATOR_FIELDS, AIGCFields
from hallmark.mark.gb45438.fields import canonical_json as _canonical

Integrity = Literal["valid", "invalid", "unverifiable"]
Role = Literal["ReservedCode1", "ReservedCode2"]
KEY_FILE = "gb45438-hmac.key"
_SCHEME = b"hallmark gb45438 hmac-sha256 v1"
_ID_DIGITS = 16
_MAC_DIGITS = 64
_COVERED: dict[Role, tuple[str, ...]] = {
    "ReservedCode1": PRODUCER_FIELDS,
    "ReservedCode2": PROPAGATOR_FIELDS,
}


def message(role: Role, fields: AIGCFields, content_digest: str) -> bytes:
    covered = _canonical(fields.subset(_COVERED[role]))
    return b"\n".join((_SCHEME, role.encode(), covered.encode(), content_digest.encode()))


class IntegrityKey:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < 32:
            raise ValueError("an integrity key needs at least 32 bytes")
        self._secret = secret
        self.key_id = hmac.new(secret, _SCHEME + b" key id", hashlib.sha256).hexdigest()
        self.key_id = self.key_id[:_ID_DIGITS]

    @classmethod
    def load(cls, keys_dir: Path) -> IntegrityKey | None:
        path = keys_dir / KEY_FILE
        return cls(path.read_bytes()) if path.exists() else None

    @classmethod
    def load_or_create(cls, keys_dir: Path) -> IntegrityKey:
        return cls(keyfiles.load_or_create(keys_dir / KEY_FILE, lambda: secrets.token_bytes(32)))

    def seal(self, role: Role, fields: AIGCFields, content_digest: str) -> str:
        mac = hmac.digest(self._secret, message(role, fields, content_digest), "sha256")
        return self.key_id + mac.hex()

    def check(self, role: Role, fields: AIGCFields, content_digest: str) -> Integrity:
        code = getattr(fields, role).strip().lower()
        if len(code) != _ID_DIGITS + _MAC_DIGITS or not code.startswith(self.key_id):
            return "unverifiable"
        expected = self.seal(role, fields, content_digest)
        return "valid" if hmac.compare_digest(code, expected) else "invalid"


def verify(
    fields: AIGCFields, content_digest: str, key: IntegrityKey | None
) -> tuple[Integrity, dict[Role, Integrity]]:
    """The label's integrity, and each code's. The latest code we can check decides: a
    propagator's ReservedCode2 vouches for the label as it is now (the producer's code may
    rightly fail after a platform added its explicit label); without one, ReservedCode1 does."""
    codes: dict[Role, Integrity] = {
        role: key.check(role, fields, content_digest) if key else "unverifiable"
        for role in ("ReservedCode1", "ReservedCode2")
    }
    for role in ("ReservedCode2", "ReservedCode1"):
        if codes[role] != "unverifiable":
            return codes[role], codes
    return "unverifiable", codes


class KeyStore:
    """Where the integrity key lives (``HALLMARK_HOME/keys``)."""

    def __init__(self, keys_dir: Path) -> None:
        self._keys_dir = keys_dir
        self._key: IntegrityKey | None = None  # a key never changes once it exists

    def keys_dir(self) -> Path:
        return self._keys_dir

    def for_writing(self) -> IntegrityKey:
        if self._key is None:
            self._key = IntegrityKey.load_or_create(self.keys_dir())
        return self._key

    def for_reading(self) -> IntegrityKey | None:
        """The key if one exists; reading never creates one."""
        if self._key is None:
            self._key = IntegrityKey.load(self.keys_dir())
        return self._key
