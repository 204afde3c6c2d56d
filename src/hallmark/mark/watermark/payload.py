"""What the watermark carries, and the error-correcting code that protects it.

The payload is 64 bits: a 48-bit *watermark id* (the first 48 bits of HMAC-SHA256 of the content
id under a secret key in ``HALLMARK_HOME/keys``) followed by a CRC-16 of those 6 bytes. The id
is what a ledger look-up indexes (``watermark_id``); the CRC tells a decoded payload from noise.

On the channel the 64 bits travel convolutionally encoded (constraint length 7, rate 1/3, the
generators 133/171/165 octal, six zero tail bits: 210 code bits) and are decoded by a soft-input
Viterbi decoder, so the image side hands over correlations, not hard bits. With soft values a
raw bit accuracy of about 85% still decodes exactly.
"""

from __future__ import annotations

import binascii
import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from hallmark import keyfiles

KEY_FILE = "watermark-hmac.key"
_SCHEME = b"hallmark watermark v1"
ID_BITS = 48
CRC_BITS = 16
PAYLOAD_BITS = ID_BITS + CRC_BITS
ID_HEX_DIGITS = ID_BITS // 4

# The convolutional code: constraint length 7 (64 states), three generator polynomials.
CONSTRAINT = 7
GENERATORS = (0o133, 0o171, 0o165)
TAIL_BITS = CONSTRAINT - 1
CODE_BITS = (PAYLOAD_BITS + TAIL_BITS) * len(GENERATORS)

Bits = npt.NDArray[np.uint8]
Floats = npt.NDArray[np.float64]


class WatermarkKey:
    """The secret behind watermark ids and the embedding pattern (32 random bytes)."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 32:
            raise ValueError("a watermark key needs at least 32 bytes")
        self._secret = secret
        self.key_id = self.mac(b"key id").hex()[:16]

    def mac(self, label: bytes, message: bytes = b"") -> bytes:
        return hmac.new(self._secret, _SCHEME + b"\n" + label + b"\n" + message, "sha256").digest()

    def pattern_seed(self) -> bytes:
        """The seed of the keyed embedding pattern: without the key it cannot be read."""
        return self.mac(b"pattern")

    @classmethod
    def load(cls, keys_dir: Path) -> WatermarkKey | None:
        path = keys_dir / KEY_FILE
        return cls(path.read_bytes()) if path.exists() else None

    @classmethod
    def load_or_create(cls, keys_dir: Path) -> WatermarkKey:
        return cls(keyfiles.load_or_create(keys_dir / KEY_FILE, lambda: secrets.token_bytes(32)))


class KeyStore:
    """Where the watermark key lives (``HALLMARK_HOME/keys``); reading never creates one."""

    def __init__(self, keys_dir: Path) -> None:
        self.keys_dir = keys_dir

    def for_writing(self) -> WatermarkKey:
        return WatermarkKey.load_or_create(self.keys_dir)

    def for_reading(self) -> WatermarkKey | None:
        return WatermarkKey.load(self.keys_dir)


def watermark_id(content_id: str, key: WatermarkKey) -> str:
    """The 12-hex-digit id a content id is watermarked with: what a ledger look-up indexes."""
    return key.mac(b"content id", content_id.encode()).hex()[:ID_HEX_DIGITS]


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (polynomial 0x1021, initial value 0xFFFF)."""
    return binascii.crc_hqx(data, 0xFFFF)


@dataclass(slots=True, frozen=True)
class Payload:
    """The 64 bits in the image: the watermark id and its CRC."""

    id_hex: str

    @property
    def hex(self) -> str:
        raw = bytes.fromhex(self.id_hex)
        return raw.hex() + crc16(raw).to_bytes(2, "big").hex()

    def bits(self) -> Bits:
        return np.unpackbits(np.frombuffer(bytes.fromhex(self.hex), dtype=np.uint8))

    @classmethod
    def for_content(cls, content_id: str, key: WatermarkKey) -> Payload:
        return cls(watermark_id(content_id, key))

    @classmethod
    def from_bits(cls, bits: Bits) -> Payload | None:
        """The payload, or None when the CRC does not match (noise, or another key's mark)."""
        raw = np.packbits(bits.astype(np.uint8)).tobytes()
        ident, check = raw[: ID_BITS // 8], raw[ID_BITS // 8 :]
        if crc16(ident) != int.from_bytes(check, "big"):
            return None
        return cls(ident.hex())


def _parity(values: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    out = np.zeros_like(values)
    for shift in range(CONSTRAINT):
        out ^= (values >> shift) & 1
    return out


# OUTPUTS[register] = the code bits (0/1) emitted when the 7-bit shift register holds it.
_REGISTERS = np.arange(1 << CONSTRAINT, dtype=np.int64)
OUTPUTS = np.stack([_parity(_REGISTERS & g) for g in GENERATORS], axis=1).astype(np.uint8)
_STATES = 1 << (CONSTRAINT - 1)
_NEXT = np.arange(_STATES)
_FROM_LOW = _NEXT >> 1  # the two predecessors of each state: top bit 0 or 1
_FROM_HIGH = _FROM_LOW | (_STATES >> 1)


def encode(bits: Bits) -> Bits:
    """The code bits of ``bits`` (zero-tailed), three per input bit."""
    register = 0
    out = np.empty((len(bits) + TAIL_BITS, len(GENERATORS)), dtype=np.uint8)
    for index, bit in enumerate([*(int(b) for b in bits), *([0] * TAIL_BITS)]):
        register = ((register << 1) | bit) & ((1 << CONSTRAINT) - 1)
        out[index] = OUTPUTS[register]
    return out.reshape(-1)


def decode(soft: Floats) -> Bits:
    """Maximum-likelihood input bits for soft code values (positive means 1, the magnitude is
    the confidence), by the Viterbi algorithm on the terminated trellis."""
    steps = soft.reshape(-1, len(GENERATORS))
    signed = OUTPUTS.astype(np.float64) * 2.0 - 1.0  # (128, 3), +1 for a 1 bit
    metric = np.full(_STATES, -np.inf)
    metric[0] = 0.0
    took_high = np.empty((len(steps), _STATES), dtype=bool)
    for index, values in enumerate(steps):
        branch = signed @ values  # the gain of each register value
        low = metric[_FROM_LOW] + branch[_NEXT]
        high = metric[_FROM_HIGH] + branch[_NEXT | _STATES]
        took_high[index] = high > low
        metric = np.where(took_high[index], high, low)
    state = 0  # the tail bits return the encoder to state 0
    bits = np.empty(len(steps), dtype=np.uint8)
    for index in range(len(steps) - 1, -1, -1):
        bits[index] = state & 1
        state = (state >> 1) | ((_STATES >> 1) if took_high[index, state] else 0)
    return bits[: len(steps) - TAIL_BITS]
