"""The ledger's Ed25519 signing key, kept in HOME/keys outside the database.

Whoever can edit the database cannot forge the signed head or pruning checkpoints without
this key; an auditor needs only the public key to check an export.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from hallmark import keyfiles

KEY_FILE = "ledger-ed25519.pem"


class Verifier:
    def __init__(self, public_key: Ed25519PublicKey) -> None:
        self._public = public_key

    @classmethod
    def from_pem(cls, pem: str) -> Verifier:
        key = serialization.load_pem_public_key(pem.encode())
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("not an Ed25519 public key")
        return cls(key)

    def verify(self, message: bytes, signature_hex: str) -> bool:
        try:
            self._public.verify(bytes.fromhex(signature_hex), message)
        except (InvalidSignature, ValueError):
            return False
        return True

    def public_pem(self) -> str:
        return self._public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()


class Signer(Verifier):
    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        super().__init__(private_key.public_key())
        self._private = private_key

    @classmethod
    def load_or_create(cls, keys_dir: Path) -> Signer:
        path = keys_dir / KEY_FILE
        pem = keyfiles.load_or_create(
            path,
            lambda: Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} does not hold an Ed25519 private key")
        return cls(key)

    def sign(self, message: bytes) -> str:
        return self._private.sign(message).hex()
