"""The certificate and key that sign hallmark's C2PA manifests, and the anchors readers trust.

By default hallmark runs its own small PKI: a root CA and an ES256 signing certificate issued by
it (C2PA validators reject self-signed signers), created once in HOME/keys/c2pa. The folder is
built aside and renamed into place, so processes starting together share one CA, never a mix.
An operator with a certificate from a CA on the C2PA trust list configures it instead
(``HALLMARK_C2PA_CERT_CHAIN`` and ``HALLMARK_C2PA_PRIVATE_KEY``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hallmark.errors import ConfigurationError
from hallmark.settings import Settings

FOLDER = "c2pa"
CA_CERT, CA_KEY = "ca.pem", "ca-key.pem"
SIGNER_CHAIN, SIGNER_KEY = "signer-chain.pem", "signer-key.pem"
CA_YEARS, SIGNER_YEARS = 20, 10
_CURVE_ALGS = {"secp256r1": "es256", "secp384r1": "es384", "secp521r1": "es512"}


@dataclass(slots=True, frozen=True)
class Credentials:
    """A signing chain (signer first), its key, and the roots a reader should trust."""

    chain_pem: bytes
    key_pem: bytes
    alg: str
    anchors_pem: bytes

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the signing certificate (DER), hex."""
        leaf = x509.load_pem_x509_certificates(self.chain_pem)[0]
        return hashlib.sha256(leaf.public_bytes(serialization.Encoding.DER)).hexdigest()


def load_credentials(settings: Settings) -> Credentials:
    """The operator's configured chain and key, or hallmark's own (created on first use)."""
    chain, key = settings.c2pa_cert_chain, settings.c2pa_private_key
    if chain is None and key is None:
        return load_or_create_own(settings.keys_dir / FOLDER)
    if chain is None or key is None:
        raise ConfigurationError(
            "set both HALLMARK_C2PA_CERT_CHAIN and HALLMARK_C2PA_PRIVATE_KEY, or neither"
        )
    operator = load_operator(chain, key)
    return Credentials(operator.chain_pem, operator.key_pem, operator.alg, trust_anchors(settings))


def trust_anchors(settings: Settings) -> bytes:
    """PEM roots a reader trusts: hallmark's CA if it exists, and the operator chain's CAs.
    Reading never creates keys."""
    anchors = b""
    ca = settings.keys_dir / FOLDER / CA_CERT
    if ca.exists():
        anchors += ca.read_bytes()
    if settings.c2pa_cert_chain is not None and settings.c2pa_cert_chain.exists():
        try:
            anchors += _ca_certs(settings.c2pa_cert_chain.read_bytes())
        except ValueError as exc:
            raise ConfigurationError(f"cannot load the C2PA certificate chain: {exc}") from exc
    return anchors


def load_operator(chain_path: Path, key_path: Path) -> Credentials:
    try:
        chain_pem, key_pem = chain_path.read_bytes(), key_path.read_bytes()
        chain = x509.load_pem_x509_certificates(chain_pem)
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigurationError(f"cannot load the C2PA certificate chain or key: {exc}") from exc
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    leaf = (
        chain[0]
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    if public != leaf:
        raise ConfigurationError(
            f"{key_path} is not the key of the first certificate in {chain_path}"
        )
    return Credentials(chain_pem, key_pem, _alg_of(key), _ca_certs(chain_pem))


def load_or_create_own(folder: Path) -> Credentials:
    if not (folder / SIGNER_KEY).exists():
        _create_own(folder)
    try:
        chain, key = (folder / SIGNER_CHAIN).read_bytes(), (folder / SIGNER_KEY).read_bytes()
        return Credentials(chain, key, "es256", (folder / CA_CERT).read_bytes())
    except OSError as exc:
        raise ConfigurationError(
            f"{folder} is incomplete ({exc.strerror}); move it aside to make a new CA"
        ) from exc


class CredentialSource:
    """Credentials loaded on first use from settings obtained then, shared by markers and the
    inspector; safe to call from several threads."""

    def __init__(self, settings: Callable[[], Settings]) -> None:
        self._settings = settings
        self._resolved: Settings | None = None
        self._credentials: Credentials | None = None
        self._lock = threading.Lock()

    def _get_settings(self) -> Settings:
        if self._resolved is None:
            self._resolved = self._settings()
        return self._resolved

    def signing(self) -> Credentials:
        with self._lock:
            if self._credentials is None:
                self._credentials = load_credentials(self._get_settings())
            return self._credentials

    def anchors(self) -> bytes:
        with self._lock:
            if self._credentials is not None:
                return self._credentials.anchors_pem
            return trust_anchors(self._get_settings())


def _alg_of(key: object) -> str:
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name in _CURVE_ALGS:
        return _CURVE_ALGS[key.curve.name]
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    if isinstance(key, rsa.RSAPrivateKey):
        return "ps256"
    raise ConfigurationError("the C2PA key must be EC P-256/P-384/P-521, Ed25519 or RSA")


def _ca_certs(chain_pem: bytes) -> bytes:
    """The CA certificates of a chain, as PEM (the signer itself is never an anchor)."""
    out = b""
    for cert in x509.load_pem_x509_certificates(chain_pem):
        try:
            is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        except x509.ExtensionNotFound:
            is_ca = False
        if is_ca:
            out += cert.public_bytes(serialization.Encoding.PEM)
    return out


def _create_own(folder: Path) -> None:
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.parent / f".{folder.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
    tmp.mkdir(mode=0o700)
    try:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca = _issue(ca_key, ca_key.public_key(), "hallmark C2PA root CA", None, CA_YEARS)
        signer_key = ec.generate_private_key(ec.SECP256R1())
        signer = _issue(ca_key, signer_key.public_key(), "hallmark C2PA signer", ca, SIGNER_YEARS)
        _write(tmp / CA_CERT, _pem(ca), 0o644)
        _write(tmp / CA_KEY, _key_pem(ca_key), 0o600)
        _write(tmp / SIGNER_CHAIN, _pem(signer) + _pem(ca), 0o644)
        _write(tmp / SIGNER_KEY, _key_pem(signer_key), 0o600)
        try:
            tmp.rename(folder)  # atomic; fails when another process got there first
        except OSError as exc:
            if not (folder / SIGNER_KEY).exists():
                raise ConfigurationError(
                    f"{folder} exists without a signer key; move it aside to make a new CA"
                ) from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _issue(
    issuer_key: ec.EllipticCurvePrivateKey,
    public_key: ec.EllipticCurvePublicKey,
    common_name: str,
    issuer: x509.Certificate | None,
    years: int,
) -> x509.Certificate:
    """A root CA when ``issuer`` is None, else a signing certificate issued by ``issuer``."""
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "hallmark"),
        ]
    )
    is_ca = issuer is None
    issuer_public = issuer_key.public_key()
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject if issuer is None else issuer.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
        .add_extension(_key_usage(is_ca), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    if not is_ca:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        ).add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_public), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _key_usage(is_ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not is_ca,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=is_ca,
        crl_sign=is_ca,
        encipher_only=False,
        decipher_only=False,
    )


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _write(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
