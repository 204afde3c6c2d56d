"""The explicit label for text documents (Markdown, plain text): the notice on the first line
of the body, after any front matter (GB 45438-2025, text: at the start, end or a suitable
middle position). Markdown gets it as a block quote so it renders as its own paragraph."""

from __future__ import annotations

from typing import ClassVar

from hallmark.content import Content, Medium
from hallmark.errors import UserError
from hallmark.mark.base import EXPLICIT, LabelContext, Marker
from hallmark.mark.explicit_text import text_notice
from hallmark.mark.gb45438.formats import base_type
from hallmark.mark.gb45438.text import decode, split
from hallmark.registry import Components

_NOTICE_LINES = {
    "text/markdown": lambda notice: f"> {notice}\n\n",
    "text/x-markdown": lambda notice: f"> {notice}\n\n",
    "text/plain": lambda notice: f"{notice}\n",
}


class ExplicitDocumentLabel(Marker):
    scheme: ClassVar[str] = EXPLICIT
    media: ClassVar[frozenset[Medium]] = frozenset({"document"})

    def mark(self, content: Content, context: LabelContext) -> Content:
        media_type = base_type(content.media_type)
        line_for = _NOTICE_LINES.get(media_type)
        if line_for is None:
            raise UserError(
                f"no explicit label can be written into {media_type!r} documents; "
                f"supported: {', '.join(sorted(_NOTICE_LINES))}"
            )
        notice = text_notice(context.wording, context.language).strip()
        line = line_for(notice)
        document = split(decode(content.data))
        if document.body.startswith(line.rstrip("\n")):
            return content
        labelled = document.with_body(line + document.body).render()
        return content.with_data(labelled.encode("utf-8"), explicit_label=notice)


def register(components: Components) -> None:
    components.markers.register("explicit.document", ExplicitDocumentLabel())
