"""A copy of a GGUF with a chat template added to its metadata, for the llama.cpp engine's
template tests: the bundled model has none. The metadata gets one more key and the tensor data
moves down, re-aligned (GGUF v3 layout)."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path
from typing import BinaryIO

_GGUF_FIXED = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
_GGUF_STRING, _GGUF_ARRAY, _GGUF_UINT32 = 8, 9, 4


def with_chat_template(source: Path, target: Path, template: str) -> Path:
    """A copy of the GGUF ``source`` whose metadata has ``tokenizer.chat_template``."""
    with open(source, "rb") as file:
        head = file.read(24)
        magic, _version, tensors, keys = struct.unpack("<4sIQQ", head)
        assert magic == b"GGUF"
        reader = _Reader(file)
        alignment = 32
        for _ in range(keys):
            key = reader.string()
            kind = reader.unpack("<I")
            if key == "general.alignment" and kind == _GGUF_UINT32:
                alignment = reader.unpack("<I")
            else:
                reader.skip_value(kind)
        kv_end = file.tell()
        for _ in range(tensors):
            reader.string()
            dims = reader.unpack("<I")
            file.read(8 * dims + 4 + 8)  # dims, type, offset
        infos_end = file.tell()
        data_start = -(-infos_end // alignment) * alignment
        file.seek(24)
        kv = file.read(kv_end - 24)
        infos = file.read(infos_end - kv_end)
        encoded = [
            _gguf_string("tokenizer.chat_template"),
            struct.pack("<I", _GGUF_STRING),
            _gguf_string(template),
        ]
        with open(target, "wb") as out:
            out.write(struct.pack("<4sIQQ", magic, _version, tensors, keys + 1))
            out.write(kv + b"".join(encoded) + infos)
            out.write(b"\0" * (-out.tell() % alignment))
            file.seek(data_start)
            shutil.copyfileobj(file, out, 1 << 22)
    return target


def _gguf_string(text: str) -> bytes:
    data = text.encode("utf-8")
    return struct.pack("<Q", len(data)) + data


class _Reader:
    def __init__(self, file: BinaryIO) -> None:
        self.file = file

    def unpack(self, fmt: str) -> int:
        return int(struct.unpack(fmt, self.file.read(struct.calcsize(fmt)))[0])

    def string(self) -> str:
        return self.file.read(self.unpack("<Q")).decode("utf-8")

    def skip_value(self, kind: int) -> None:
        if kind == _GGUF_STRING:
            self.file.seek(self.unpack("<Q"), 1)
        elif kind == _GGUF_ARRAY:
            item, count = self.unpack("<I"), self.unpack("<Q")
            if item in _GGUF_FIXED:
                self.file.seek(_GGUF_FIXED[item] * count, 1)
            else:
                for _ in range(count):
                    self.skip_value(item)
        else:
            self.file.seek(_GGUF_FIXED[kind], 1)


GEMMA_TEMPLATE = (
    "{{ bos_token }}"
    "{% for m in messages %}<start_of_turn>{{ 'model' if m.role == 'assistant' else m.role }}\n"
    "{{ m.content }}<end_of_turn>\n{% endfor %}"
    "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
)
"""A Gemma-style chat template that knows nothing of tools."""

TOOLS_TEMPLATE = (
    "{% if messages[0].role == 'assistant' %}{{ raise_exception('the user speaks first') }}"
    "{% endif %}"
    "{% if tools %}<start_of_turn>user\nTools:"
    "{% for tool in tools %} {{ tool.function.name }}{% endfor %}<end_of_turn>\n{% endif %}"
)
"""What a stricter template that shows tools itself (it names them) puts before
``GEMMA_TEMPLATE``; it refuses a conversation that the assistant opens, as some do."""
