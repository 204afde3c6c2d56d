"""The text the text screens read in a piece of content: a text as it is, a PDF's extracted text.

A PDF is read with pypdf, page by page, the pages joined by blank lines; the extraction of the
last few documents is kept (by their bytes), since the lexicon, the classifier and the judge each
ask for it. A PDF that cannot be parsed is a ``UserError``; one without a text layer (a scan)
gives an empty text, which no screen objects to.
"""

from __future__ import annotations

import functools
import io

from hallmark.content import Content
from hallmark.errors import UserError

PDF = "application/pdf"
RECENT_DOCUMENTS = 8


def text_of(content: Content) -> str:
    """What a text screen reads in ``content``."""
    if content.media_type.split(";", 1)[0].strip().lower() == PDF:
        return _pdf_text(content.data)
    return content.text


@functools.lru_cache(maxsize=RECENT_DOCUMENTS)
def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise UserError(f"cannot read the PDF's text: {exc}") from exc
    return "\n\n".join(page.strip() for page in pages if page.strip())
