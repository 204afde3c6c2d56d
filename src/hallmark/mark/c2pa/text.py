"""C2PA Content Credentials in plain text and Markdown: C2PA 2.4 Appendix A.8, "Embedding
manifests into unstructured text".

The manifest store rides at the end of the text in a ``C2PATextManifestWrapper``: U+FEFF, then
one Unicode variation selector per byte (0x00-0x0F as U+FE00-U+FE0F, 0x10-0xFF as
U+E0100-U+E01EF) of ``C2PATXT\\0``, the version (1), the store's length (big-endian uint32) and
the JUMBF manifest store, padded to the deterministic size A.8 fixes for a store of that length.
Nothing of it renders. The hard binding is a ``c2pa.hash.data`` assertion whose one exclusion is
the wrapper's byte range; the hash covers the rest of the text, normalized to NFC, as UTF-8.

c2pa-python 0.38 has no text asset handler. Signing calls the native library's data-hashed
signing (``c2pa_builder_sign_data_hashed_embeddable``) on a Builder and Signer made the normal
way; reading hands the store found in the wrapper to ``c2pa.Reader`` as manifest data, which
checks the signature, the trust chain and every assertion. c2pa-rs cannot see a store inside
text, so it reports any text binding as ``assertion.dataHash.mismatch`` ("exclusion does not
match the manifest location"). This module makes that check itself (the exclusion must be
exactly the wrapper's bytes), recomputes the hash, and only when both hold drops the mismatch.
"""

from __future__ import annotations

import base64
import ctypes
import functools
import hashlib
import hmac
import io
import json
import re
import struct
import unicodedata
from dataclasses import dataclass
from typing import Any

import c2pa
from c2pa import c2pa as native

from hallmark.errors import UserError
from hallmark.mark.c2pa.credentials import Credentials

TEXT_TYPES = frozenset({"text/plain", "text/markdown", "text/x-markdown"})
MAGIC = b"C2PATXT\x00"
VERSION = 1
CORRUPTED = "manifest.text.corruptedWrapper"
MULTIPLE = "manifest.text.multipleWrappers"
DATA_HASH_MISMATCH = "assertion.dataHash.mismatch"
DATA_HASH_LABEL = "c2pa.hash.data"
STORE_FORMAT = "application/c2pa"  # a bare JUMBF manifest store, as the wrapper carries it
_HEADER = struct.Struct(">8sBI")  # magic, version, store length
_MARKER = "\ufeff"
_SELECTORS = tuple(chr(0xFE00 + b) if b < 16 else chr(0xE0100 + b - 16) for b in range(256))
_BYTE_OF = {selector: byte for byte, selector in enumerate(_SELECTORS)}
# U+FEFF, then a run of U+FE00-U+FE0F (3 UTF-8 bytes) and U+E0100-U+E01EF (4 bytes).
_RUN = re.compile(
    rb"\xef\xbb\xbf((?:\xef\xb8[\x80-\x8f]|\xf3\xa0(?:[\x84-\x86][\x80-\xbf]|\x87[\x80-\xaf]))+)"
)
_PRIOR_STORE = "hallmark-input.c2pa"  # resource id of an ingredient's manifest store
_SIZE_TRIES = 4


@dataclass(slots=True, frozen=True)
class Wrapper:
    """A wrapper found in a text: its [start, end) byte range and the manifest store it
    carries, or ``problem`` when it has the magic but is malformed."""

    start: int
    end: int
    store: bytes | None
    problem: str | None = None

    @property
    def length(self) -> int:
        return self.end - self.start


def wrapper_size(store_size: int) -> int:
    """The UTF-8 size of the wrapper for a store of ``store_size`` bytes (A.8's deterministic
    size): the marker, four bytes for each header and store byte (the most a selector takes),
    and six more, so that the padding can always make up the difference."""
    return len(_MARKER.encode()) + 4 * (_HEADER.size + store_size) + 6


def encode(store: bytes) -> str:
    """The wrapper for a manifest store, padded to ``wrapper_size``."""
    wrapper = _MARKER + _selectors(_HEADER.pack(MAGIC, VERSION, len(store)) + store)
    gap = wrapper_size(len(store)) - len(wrapper.encode())
    # A.8's padding: 0x10 (a 4-byte selector) gap % 3 times, 0x00 (3 bytes) for the rest.
    fours = gap % 3
    return wrapper + _selectors(b"\x00" * ((gap - 4 * fours) // 3) + b"\x10" * fours)


def _selectors(data: bytes) -> str:
    return "".join(_SELECTORS[byte] for byte in data)


def locate(data: bytes) -> list[Wrapper]:
    """Every wrapper in the text, in order. A run of selectors after U+FEFF that does not
    begin with the magic is not a wrapper and is left alone."""
    found = []
    for run in _RUN.finditer(data):
        payload = bytes(_BYTE_OF[selector] for selector in run.group(1).decode("utf-8"))
        if not payload.startswith(MAGIC):
            continue
        start, end = run.span()
        if len(payload) < _HEADER.size:
            found.append(Wrapper(start, end, None, "the wrapper's header is cut short"))
            continue
        _, version, size = _HEADER.unpack_from(payload)
        if version != VERSION:
            found.append(Wrapper(start, end, None, f"unknown wrapper version {version}"))
        elif _HEADER.size + size > len(payload):
            problem = f"the wrapper holds {len(payload) - _HEADER.size} of {size} store bytes"
            found.append(Wrapper(start, end, None, problem))
        else:
            found.append(Wrapper(start, end, payload[_HEADER.size : _HEADER.size + size]))
    return found


def strip(data: bytes) -> bytes:
    """The text without its wrappers, well formed or not: exactly the text that was signed."""
    out, last = bytearray(), 0
    for wrapper in locate(data):
        out += data[last : wrapper.start]
        last = wrapper.end
    return bytes(out + data[last:])


def content_hash(text: bytes, alg: str = "sha256") -> bytes | None:
    """A.8's hash of the text outside the wrapper: NFC, as UTF-8. None when the bytes are not
    UTF-8 or the algorithm is not one C2PA uses."""
    if alg not in ("sha256", "sha384", "sha512"):
        return None
    try:
        normalized = unicodedata.normalize("NFC", text.decode("utf-8"))
    except UnicodeDecodeError:
        return None
    return hashlib.new(alg, normalized.encode("utf-8")).digest()


def sign(
    definition: dict[str, Any],
    ingredient: dict[str, Any] | None,
    media_type: str,
    data: bytes,
    credentials: Credentials,
    *,
    prior_results: dict[str, Any] | None = None,
) -> bytes:
    """The text with a wrapper for a new manifest appended, any old wrapper removed first.

    ``ingredient`` stands for the input text; when the input carried one well-formed wrapper
    and ``prior_results`` (the validation results read from it) are given, its manifest store
    goes into the ingredient so earlier provenance is kept. Raises ``UserError`` when the text
    is not UTF-8 and ``c2pa.C2paError`` when signing fails.
    """
    wrappers = locate(data)
    text = strip(data)
    digest = content_hash(text)
    if digest is None:
        raise UserError("the document is not UTF-8 text")
    prior = None
    if ingredient is not None:
        ingredient = {**ingredient, "format": media_type}
        if prior_results is not None and len(wrappers) == 1 and wrappers[0].store is not None:
            prior = wrappers[0].store
            ingredient["manifest_data"] = {"format": STORE_FORMAT, "identifier": _PRIOR_STORE}
            ingredient["validation_results"] = prior_results
    definition = {**definition, "format": media_type}
    if ingredient is not None:
        definition["ingredients"] = [ingredient]
    # The exclusion's length is in the manifest, and the manifest's size fixes that length: sign
    # with a guess, then again with the size it gave, until the two agree (a CBOR integer only
    # grows a byte at 256 and 65536, so a second pass almost always settles it).
    size = 4096
    for _ in range(_SIZE_TRIES):
        binding = {
            "exclusions": [{"start": len(text), "length": wrapper_size(size)}],
            "name": "jumbf manifest",
            "alg": "sha256",
            "hash": list(digest),
            "pad": [],
        }
        store = _sign_store(
            {**definition, "assertions": [*definition["assertions"], _assertion(binding)]},
            binding,
            prior,
            credentials,
        )
        if len(store) == size:
            return text + encode(store).encode("utf-8")
        size = len(store)
    raise c2pa.C2paError(f"the manifest size did not settle after {_SIZE_TRIES} signatures")


def _assertion(binding: dict[str, Any]) -> dict[str, Any]:
    return {"label": DATA_HASH_LABEL, "data": binding}


def _sign_store(
    definition: dict[str, Any],
    binding: dict[str, Any],
    prior: bytes | None,
    credentials: Credentials,
) -> bytes:
    info = c2pa.C2paSignerInfo(
        credentials.alg.encode("ascii"), credentials.chain_pem, credentials.key_pem, None
    )
    with (
        c2pa.Context() as context,
        c2pa.Signer.from_info(info) as signer,
        c2pa.Builder(definition, context) as builder,
    ):
        if prior is not None:
            builder.add_resource(_PRIOR_STORE, io.BytesIO(prior))
        return _sign_data_hashed(builder, signer, binding)


@functools.cache
def _native_sign_data_hashed() -> Any:
    """c2pa-rs's ``c2pa_builder_sign_data_hashed_embeddable`` from the library c2pa-python
    loaded, declared as its C API (``c2pa_c_ffi``) has it: ``int64_t (C2paBuilder*,
    C2paSigner*, const char *data_hash_json, const char *format, C2paStream *asset,
    const unsigned char **manifest_bytes)``. A function object of its own, so the library's
    declarations are left as they are."""
    function = native._lib["c2pa_builder_sign_data_hashed_embeddable"]
    function.argtypes = [
        ctypes.c_void_p,
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_void_p,
        ctypes.POINTER(ctypes.POINTER(ctypes.c_ubyte)),
    ]
    function.restype = ctypes.c_int64
    return function


def _sign_data_hashed(builder: Any, signer: Any, binding: dict[str, Any]) -> bytes:
    """The bare manifest store, signed with ``binding`` as its hard binding (no asset stream:
    the hash is already in it). The c2pa-python Builder has no such call, so this makes the
    native one on the Builder's and Signer's own handles, reporting errors as c2pa-python
    does."""
    manifest = ctypes.POINTER(ctypes.c_ubyte)()
    native._write_no_error_marker()
    size = _native_sign_data_hashed()(
        ctypes.cast(builder._handle, ctypes.c_void_p),
        ctypes.cast(signer._handle, ctypes.c_void_p),
        json.dumps(binding).encode("utf-8"),
        STORE_FORMAT.encode("ascii"),
        None,
        ctypes.byref(manifest),
    )
    native._check_ffi_operation_result(
        size, "cannot sign the text manifest: {}", check=lambda result: result < 0
    )
    try:
        return ctypes.string_at(manifest, size)
    finally:
        native._lib.c2pa_free(manifest)


def open_store(data: bytes, media_type: str, context: Any) -> dict[str, Any] | None:
    """The manifest store in a text's wrapper as c2pa-rs reports it (read with ``context``),
    with the hard binding checked here; None when the text has no wrapper. A malformed wrapper,
    or more than one, is an ``Invalid`` store without manifests. Raises ``c2pa.C2paError`` when
    the wrapper holds something that is not a manifest store."""
    wrappers = locate(data)
    if not wrappers:
        return None
    if len(wrappers) > 1:
        return _broken(MULTIPLE, f"the text has {len(wrappers)} C2PA text wrappers")
    wrapper = wrappers[0]
    if not wrapper.store:
        return _broken(CORRUPTED, wrapper.problem or "the wrapper holds an empty store")
    with c2pa.Reader(media_type, io.BytesIO(data), wrapper.store, context) as reader:
        store: dict[str, Any] = json.loads(reader.json())
        detailed: dict[str, Any] = json.loads(reader.detailed_json())
    active = (detailed.get("manifests") or {}).get(detailed.get("active_manifest", ""), {})
    binding = (active.get("assertion_store") or {}).get(DATA_HASH_LABEL)
    if isinstance(binding, dict) and binding_holds(data, wrapper, binding):
        _accept_binding(store)
    return store


def binding_holds(data: bytes, wrapper: Wrapper, binding: dict[str, Any]) -> bool:
    """Whether a ``c2pa.hash.data`` assertion binds this text: its only exclusion is exactly
    the wrapper, and its hash is that of everything else."""
    exclusions = [(e.get("start"), e.get("length")) for e in binding.get("exclusions") or []]
    if exclusions != [(wrapper.start, wrapper.length)]:
        return False
    try:
        expected = base64.b64decode(str(binding.get("hash") or ""), validate=True)
    except ValueError:
        return False
    actual = content_hash(
        data[: wrapper.start] + data[wrapper.end :], binding.get("alg") or "sha256"
    )
    return actual is not None and hmac.compare_digest(actual, expected)


def _accept_binding(store: dict[str, Any]) -> None:
    """Drop c2pa-rs's data-hash failures once the binding was checked here, and give the state
    c2pa-rs would have given had it been able to check it."""
    results = store.get("validation_results") or {}
    active = results.get("activeManifest") or {}
    failures = active.get("failure") or []
    dropped = [f for f in failures if f.get("code") == DATA_HASH_MISMATCH]
    if not dropped:
        return
    active["failure"] = [f for f in failures if f.get("code") != DATA_HASH_MISMATCH]
    active["success"] = [
        *(active.get("success") or []),
        {
            "code": "assertion.dataHash.match",
            "url": dropped[0].get("url"),
            "explanation": "data hash valid (C2PA text wrapper, checked by hallmark)",
        },
    ]
    store["validation_status"] = [
        s for s in store.get("validation_status") or [] if s.get("code") != DATA_HASH_MISMATCH
    ]
    store["validation_state"] = validation_state(results)


def validation_state(results: dict[str, Any]) -> str:
    """The state c2pa-rs 0.91 gives validation results (``ValidationResults::validation_state``):
    ``Valid`` when the claim signature holds and every failure is tolerated (an untrusted
    signer, a CAWG X.509 identity problem), ``Trusted`` when moreover nothing failed and the
    signer is trusted, else ``Invalid``."""
    active = results.get("activeManifest") or {}
    successes = {s.get("code") for s in active.get("success") or []}
    failures = [str(f.get("code")) for f in active.get("failure") or []]
    in_ingredients = [
        str(f.get("code"))
        for delta in results.get("ingredientDeltas") or []
        for f in (delta.get("validationDeltas") or {}).get("failure") or []
    ]
    valid = {"claimSignature.validated", "claimSignature.insideValidity"} <= successes and all(
        code == "signingCredential.untrusted" or code.startswith("cawg.x509.")
        for code in failures + in_ingredients
    )
    if valid and "signingCredential.trusted" in successes and not failures + in_ingredients:
        return "Trusted"
    return "Valid" if valid else "Invalid"


def _broken(code: str, explanation: str) -> dict[str, Any]:
    return {
        "manifests": {},
        "validation_state": "Invalid",
        "validation_status": [{"code": code, "explanation": explanation}],
    }
