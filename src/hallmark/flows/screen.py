"""The screen flow: a decision on a text or a file, or on each line of a batch, without
generating anything. policy -> sniff -> screen -> ledger.

A blocked text is reported, not refused: the decision is the result, and the caller acts on it.
Every call is one ledger entry holding digests, never the text. A text or a file is recorded
with its decision (the evidence is lexicon terms and offsets); a batch with one digest over its
lines' digests and one action letter per line, so thousands of lines cost one append.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from hallmark.content import Content, Medium
from hallmark.errors import PayloadTooLarge, UserError
from hallmark.flows.common import language_for, policy_for
from hallmark.media_types import medium_for, sniff
from hallmark.policy import Policy
from hallmark.screen.base import Action, Decision, Screen, screen_content
from hallmark.screen.video import VideoScreen
from hallmark.services import Services
from hallmark.settings import Settings
from hallmark.store.media import digest_of

READABLE_DOCUMENTS = frozenset({"text/plain", "text/markdown", "application/pdf"})
"""Document types whose text the text screens read (a PDF's through ``screen.document``)."""
LINE_LETTERS: dict[Action, str] = {"allow": "a", "flag": "f", "block": "b"}
TEXT_MEDIA = frozenset({"text", "document"})
"""Media whose bytes are screened as text, so the text length limit applies to them."""
REJECTED = "-"
"""The letter of a batch line that was not screened (not JSON, no text, too long)."""


@dataclass(slots=True, frozen=True)
class ScreenRequest:
    """A ``text``, or the bytes of a file (``data``), to screen."""

    text: str | None = None
    data: bytes | None = None
    filename: str | None = None
    declared_type: str | None = None
    jurisdictions: tuple[str, ...] | None = None
    language: str | None = None


@dataclass(slots=True, frozen=True)
class ScreenOutcome:
    decision: Decision
    medium: Medium
    media_type: str
    digest: str
    screened_by: tuple[str, ...]
    note: str | None
    jurisdictions: tuple[str, ...]
    language: str
    ledger_seq: int

    def to_dict(self) -> dict[str, Any]:
        return {
            **decision_record(self.decision, self.screened_by, self.note),
            "medium": self.medium,
            "media_type": self.media_type,
            "digest": self.digest,
            "jurisdictions": list(self.jurisdictions),
            "language": self.language,
            "ledger_seq": self.ledger_seq,
        }


def decision_record(
    decision: Decision, screened_by: Sequence[str], note: str | None = None
) -> dict[str, Any]:
    """The decision as callers see it, with the screens that looked at the content. An empty
    ``screened_by`` means nothing did: the ``allow`` then says nothing about the content, and
    ``note`` says why."""
    return {**decision.to_dict(), "screened_by": list(screened_by), "note": note}


def screens_for(screens: Iterable[Screen], content: Content) -> tuple[list[Screen], str | None]:
    """The screens that look at ``content``; when there are none, a note saying why."""
    base_type = content.media_type.split(";", 1)[0].strip().lower()
    if content.medium == "document" and base_type not in READABLE_DOCUMENTS:
        return [], f"text is not read from {base_type} files; nothing screened it"
    found = [screen for screen in screens if content.medium in screen.media]
    if not found:
        return [], f"no registered screen looks at {content.medium}; nothing screened it"
    notes = [screen.note() for screen in found if isinstance(screen, VideoScreen)]
    return found, "; ".join(note for note in notes if note) or None


def screened_by(screens: Iterable[Screen]) -> tuple[str, ...]:
    """The names of the screens, a video screen's by what it screens with (its sound, its
    frames)."""
    names: list[str] = []
    for screen in screens:
        names.extend(screen.parts() if isinstance(screen, VideoScreen) else (screen.name,))
    return tuple(names)


def check_text(text: str, settings: Settings) -> None:
    if not text.strip():
        raise UserError("the text is empty")
    limit = settings.max_screen_chars
    if len(text) > limit:
        raise PayloadTooLarge(
            f"the text is longer than {limit} characters (HALLMARK_MAX_SCREEN_CHARS)"
        )


def _rules(
    services: Services,
    tenant_id: str,
    jurisdictions: Sequence[str] | None,
    language: str | None,
) -> tuple[Policy, str]:
    with services.db.session() as session:
        policy = policy_for(services, session, tenant_id, jurisdictions)
    return policy, language_for(policy, language)


def _content(settings: Settings, request: ScreenRequest) -> Content:
    if (request.text is None) == (request.data is None):
        raise UserError("give a text or a file to screen, not both or neither")
    if request.text is not None:
        check_text(request.text, settings)
        return Content.from_text(request.text)
    assert request.data is not None
    limit = settings.max_upload_bytes
    if len(request.data) > limit:
        raise PayloadTooLarge(f"the file is larger than {limit} bytes")
    media_type = sniff(request.data, request.declared_type or request.filename)
    return Content(medium_for(media_type), media_type, request.data)


def run_screen(services: Services, tenant_id: str, request: ScreenRequest) -> ScreenOutcome:
    """Screen one text or file under the tenant's policy (or the request's jurisdictions),
    record the decision in the ledger and return it."""
    content = _content(services.settings, request)
    policy, language = _rules(services, tenant_id, request.jurisdictions, request.language)
    screens, note = screens_for(services.components.screens, content)
    if screens and request.data is not None and content.medium in TEXT_MEDIA:
        check_text(content.text, services.settings)
    decision = screen_content(screens, content, policy, language=language)
    digest = digest_of(content.data)
    names = screened_by(screens)
    payload: dict[str, Any] = {
        "medium": content.medium,
        "media_type": content.media_type,
        "digest": digest,
        "jurisdictions": list(policy.jurisdictions),
        "language": language,
        "screened_by": list(names),
        "screening": decision.to_dict(),
    }
    if request.filename is not None:
        payload["filename"] = request.filename
    if note is not None:
        payload["note"] = note
    with services.db.session() as session:
        entry = services.ledger.append(session, "screen", payload, tenant_id=tenant_id)
    return ScreenOutcome(
        decision,
        content.medium,
        content.media_type,
        digest,
        names,
        note,
        policy.jurisdictions,
        language,
        entry.seq,
    )


def parse_batch_line(raw: bytes) -> tuple[str, Any]:
    """The text and the optional ``id`` of one JSON Lines record, ``{"text": "..."}``."""
    try:
        line = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UserError("the line is not UTF-8") from None
    if not line.strip():
        raise UserError('the line is blank; expected {"text": "..."}')
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise UserError(f"the line is not JSON: {exc.msg} (column {exc.colno})") from None
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        raise UserError('expected an object with a "text" string, e.g. {"text": "..."}')
    return record["text"], record.get("id")


class TextBatch:
    """Many texts screened under one policy, then recorded together in one ledger entry.

    The entry keeps, in line order, one letter per line (``a``/``f``/``b`` for allow, flag,
    block; ``-`` for a line that was not screened) and ``lines_digest``: SHA-256 over the
    screened lines' digests (``sha256:<hex>`` of each text's UTF-8), each followed by a newline,
    so an auditor holding the input can check it.
    """

    def __init__(
        self,
        services: Services,
        tenant_id: str,
        *,
        jurisdictions: Sequence[str] | None = None,
        language: str | None = None,
        source: str | None = None,
    ) -> None:
        self._services = services
        self._tenant_id = tenant_id
        self.policy, self.language = _rules(services, tenant_id, jurisdictions, language)
        self.source = source
        screens, self.note = screens_for(services.components.screens, Content.from_text(""))
        self.screens = tuple(screen.prepare() for screen in screens)
        self._lines_digest = hashlib.sha256()
        self._letters: list[str] = []
        self.actions: Counter[str] = Counter()
        self.categories: Counter[str] = Counter()

    @property
    def screened_by(self) -> tuple[str, ...]:
        return tuple(screen.name for screen in self.screens)

    @property
    def lines(self) -> int:
        return len(self._letters)

    def screen(self, text: str) -> Decision:
        """The decision on one text; a bad text raises before anything is counted."""
        check_text(text, self._services.settings)
        decision = screen_content(
            self.screens, Content.from_text(text), self.policy, language=self.language
        )
        self._lines_digest.update(digest_of(text.encode("utf-8")).encode("ascii") + b"\n")
        self._letters.append(LINE_LETTERS[decision.action])
        self.actions[decision.action] += 1
        self.categories.update(decision.categories)
        return decision

    def reject(self) -> None:
        """Count a line that could not be screened."""
        self._letters.append(REJECTED)
        self.actions["rejected"] += 1

    def record(self) -> int:
        """Append the batch's one ledger entry; returns its seq."""
        payload = {
            "source": self.source,
            "lines": self.lines,
            "actions": {key: self.actions[key] for key in (*LINE_LETTERS, "rejected")},
            "per_line": "".join(self._letters),
            "lines_digest": f"sha256:{self._lines_digest.hexdigest()}",
            "categories": dict(sorted(self.categories.items())),
            "jurisdictions": list(self.policy.jurisdictions),
            "language": self.language,
            "screened_by": list(self.screened_by),
        }
        with self._services.db.session() as session:
            entry = self._services.ledger.append(
                session, "screen.batch", payload, tenant_id=self._tenant_id
            )
        return entry.seq
