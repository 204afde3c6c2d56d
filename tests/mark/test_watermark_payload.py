"""The watermark payload: keyed ids, the CRC, the error-correcting code, and the key file."""

from __future__ import annotations

import stat
from pathlib import Path

import numpy as np
import pytest

from hallmark.mark.watermark import KeyStore, Payload, WatermarkKey, watermark_id
from hallmark.mark.watermark.payload import CODE_BITS, PAYLOAD_BITS, decode, encode


def key(byte: int) -> WatermarkKey:
    return WatermarkKey(bytes([byte]) * 32)


def test_watermark_id_is_a_keyed_48_bit_hash_of_the_content_id() -> None:
    first = watermark_id("0123456789abcdef0123456789abcdef", key(1))
    assert len(first) == 12 and int(first, 16) >= 0
    assert watermark_id("0123456789abcdef0123456789abcdef", key(1)) == first
    assert watermark_id("0123456789abcdef0123456789abcdef", key(2)) != first
    assert watermark_id("fedcba9876543210fedcba9876543210", key(1)) != first


def test_payload_is_the_id_and_its_crc_and_round_trips_through_bits() -> None:
    payload = Payload.for_content("c-1", key(1))
    assert payload.hex.startswith(payload.id_hex) and len(payload.hex) == 16
    bits = payload.bits()
    assert bits.shape == (PAYLOAD_BITS,)
    assert Payload.from_bits(bits) == payload


def test_a_payload_with_a_flipped_bit_fails_its_crc() -> None:
    bits = Payload.for_content("c-1", key(1)).bits()
    for index in (0, 20, 47, 50, 63):
        damaged = bits.copy()
        damaged[index] ^= 1
        assert Payload.from_bits(damaged) is None


def test_the_code_decodes_clean_soft_values_exactly() -> None:
    bits = np.random.default_rng(0).integers(0, 2, PAYLOAD_BITS).astype(np.uint8)
    code = encode(bits)
    assert code.shape == (CODE_BITS,)
    assert np.array_equal(decode(code * 2.0 - 1.0), bits)


def test_the_code_corrects_a_raw_bit_accuracy_of_about_85_percent() -> None:
    rng = np.random.default_rng(7)
    raw = []
    for _ in range(40):
        bits = rng.integers(0, 2, PAYLOAD_BITS).astype(np.uint8)
        code = encode(bits)
        soft = code * 2.0 - 1.0 + rng.normal(0.0, 0.9, CODE_BITS)
        raw.append(np.mean((soft > 0) == code))
        assert np.array_equal(decode(soft), bits)
    assert 0.84 < np.mean(raw) < 0.9


def test_key_is_created_once_with_mode_0600_and_never_by_reading(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys")
    assert store.for_reading() is None
    assert not (tmp_path / "keys").exists()
    written = store.for_writing()
    path = next((tmp_path / "keys").iterdir())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert list((tmp_path / "keys").iterdir()) == [path]  # no temporary file left
    again = store.for_reading()
    assert again is not None and again.key_id == written.key_id
    assert store.for_writing().pattern_seed() == written.pattern_seed()


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ValueError):
        WatermarkKey(b"short")
