"""hallmark's own CA and signer are made once, atomically, with private keys at 0600, and
reused; an operator's configured chain and key replace them."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID
from test_c2pa_support import label_context, sample, throwaway_chain

from hallmark.content import Content
from hallmark.errors import ConfigurationError
from hallmark.mark.c2pa.credentials import (
    CA_CERT,
    CA_KEY,
    SIGNER_CHAIN,
    SIGNER_KEY,
    CredentialSource,
    _create_own,
    load_credentials,
    trust_anchors,
)
from hallmark.mark.c2pa.marker import C2paMarker
from hallmark.mark.c2pa.reader import read_credentials
from hallmark.settings import Settings


def _settings(tmp_path: Path, **extra: object) -> Settings:
    return Settings(home=tmp_path / "home", **extra)  # type: ignore[arg-type]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_created_once_then_reused_with_private_keys_0600(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    folder = settings.keys_dir / "c2pa"
    first = load_credentials(settings)
    assert _mode(folder / CA_KEY) == 0o600
    assert _mode(folder / SIGNER_KEY) == 0o600
    assert _mode(folder) == 0o700
    second = load_credentials(settings)
    assert second.fingerprint == first.fingerprint
    assert second.anchors_pem == (folder / CA_CERT).read_bytes()
    # A process that raced and lost keeps the winner's CA and leaves nothing behind.
    _create_own(folder)
    assert load_credentials(settings).fingerprint == first.fingerprint
    assert [p.name for p in folder.parent.iterdir()] == ["c2pa"]


def test_concurrent_first_use_shares_one_ca(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    fingerprints: list[str] = []
    threads = [
        threading.Thread(target=lambda: fingerprints.append(load_credentials(settings).fingerprint))
        for _ in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(fingerprints) == 6 and len(set(fingerprints)) == 1
    assert [p.name for p in settings.keys_dir.iterdir()] == ["c2pa"]


def test_signer_certificate_is_issued_by_the_ca_for_c2pa(tmp_path: Path) -> None:
    folder = _settings(tmp_path).keys_dir / "c2pa"
    load_credentials(_settings(tmp_path))
    leaf, ca = x509.load_pem_x509_certificates((folder / SIGNER_CHAIN).read_bytes())
    assert ca.public_bytes(Encoding.PEM) == (folder / CA_CERT).read_bytes()
    leaf.verify_directly_issued_by(ca)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and not usage.key_cert_sign
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.EMAIL_PROTECTION]
    aki = leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    assert leaf.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)


def test_reading_trust_anchors_creates_no_keys(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    assert trust_anchors(settings) == b""
    assert not settings.keys_dir.exists()


def test_configured_operator_chain_and_key_are_used(tmp_path: Path) -> None:
    chain, key, root = throwaway_chain("Operator Ltd")
    (tmp_path / "chain.pem").write_bytes(chain)
    (tmp_path / "key.pem").write_bytes(key)
    settings = _settings(
        tmp_path, c2pa_cert_chain=tmp_path / "chain.pem", c2pa_private_key=tmp_path / "key.pem"
    )
    source = CredentialSource(lambda: settings)
    credentials = source.signing()
    assert credentials.chain_pem == chain and credentials.alg == "es256"
    assert credentials.anchors_pem == root  # the operator's CA, not its signer
    assert not (settings.keys_dir / "c2pa").exists()  # no hallmark CA made

    jpeg = Content("image", "image/jpeg", sample("jpeg"))
    signed = C2paMarker(source).mark(jpeg, label_context()).data
    report = read_credentials(signed, "image/jpeg", source.anchors())
    assert report.state == "Trusted"
    assert (report.signer_issuer, report.signer_common_name) == (
        "Operator Ltd",
        "Operator Ltd Signer",
    )


def test_operator_configuration_errors_are_one_line(tmp_path: Path) -> None:
    chain, _, _ = throwaway_chain()
    _, other_key, _ = throwaway_chain()
    (tmp_path / "chain.pem").write_bytes(chain)
    (tmp_path / "other.pem").write_bytes(other_key)
    with pytest.raises(ConfigurationError, match="set both"):
        load_credentials(_settings(tmp_path, c2pa_cert_chain=tmp_path / "chain.pem"))
    mismatched = _settings(
        tmp_path, c2pa_cert_chain=tmp_path / "chain.pem", c2pa_private_key=tmp_path / "other.pem"
    )
    with pytest.raises(ConfigurationError, match="not the key of the first certificate"):
        load_credentials(mismatched)
    missing = _settings(
        tmp_path, c2pa_cert_chain=tmp_path / "nope.pem", c2pa_private_key=tmp_path / "other.pem"
    )
    with pytest.raises(ConfigurationError, match="cannot load"):
        load_credentials(missing)


def test_source_reads_settings_only_when_first_needed(tmp_path: Path) -> None:
    calls: list[int] = []

    def settings() -> Settings:
        calls.append(1)
        return _settings(tmp_path)

    source = CredentialSource(settings)
    assert calls == []
    assert source.anchors() == b""
    first = source.signing()
    assert source.signing() is first
    assert source.anchors() == first.anchors_pem
    assert len(calls) == 1


def test_an_incomplete_key_folder_is_a_configuration_error(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    load_credentials(settings)
    (settings.keys_dir / "c2pa" / SIGNER_CHAIN).unlink()
    with pytest.raises(ConfigurationError, match="incomplete"):
        load_credentials(settings)
    (settings.keys_dir / "c2pa" / SIGNER_KEY).unlink()
    with pytest.raises(ConfigurationError, match="without a signer key"):
        load_credentials(settings)
