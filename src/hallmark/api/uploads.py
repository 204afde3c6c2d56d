"""Reading an uploaded file with a size cap."""

from __future__ import annotations

from fastapi import UploadFile

from hallmark.errors import PayloadTooLarge, UserError


def read_upload(file: UploadFile, limit: int) -> bytes:
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"the upload is larger than {limit} bytes")
    if not data:
        raise UserError("the upload is empty")
    return data
