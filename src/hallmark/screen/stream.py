"""Screening of a streamed reply: text goes to the user as the model writes it, screened on the
way, and a blocked term never reaches the user.

``StreamScreen`` is fed the reply's deltas and answers each with a ``StreamStep``: the text now
safe to send (``release``) and the decision so far. Text is released ``holdback`` characters
behind what has been screened, so a term is found before any of it is released. Once the
decision is ``block`` every step releases nothing; the caller stops the stream and sends the
decision's ``refusal`` instead. ``finish()`` screens the whole reply once more and releases the
rest unless that blocks. It is plain data and no I/O: one instance screens one reply, from one
thread.

Which screens run when. A screen that finds terms where they are and says how long its longest
term is (``longest_term``; the lexicon) is run as the text arrives, over the new text and a
stretch of context before it. The others run once, on the whole reply, at ``finish()``: the
classifier scores a whole message (its hit's evidence is the whole text, and a model reading a
window would score a fragment out of context, at a numpy pass per check); the LLM judge is a
model call. A block that only these find comes after most of the reply was shown, so the caller
retracts what it showed; in ``flag`` mode (the default) the classifier never blocks alone.

Cost. A check runs only when ``CHECK_EVERY`` characters arrived since the last one, or half as
many and the delta ends a sentence or a line. It reads the new text plus the context before it
(``3L + 2 * MARGIN`` characters, see below; at most ``window`` characters per screening call, a
longer run read in overlapping windows), so a reply costs time in proportion to its length.

The margins, from ``L``, the longest term or allow phrase of the lexicons (32 when no screen
says):

- a hit found before the end of the stream counts only once ``L`` characters follow it (its
  *lookahead*): room for an allow phrase that starts with the term ("大麻" in "大麻哈鱼") and
  for the word to go on ("meth" in "methane");
- a term's span in the text is taken to be at most ``L + MARGIN`` characters: a long phrase
  with a few extra spaces, or a short term with separators between its characters ("f.u.c.k",
  "法@轮@功");
- the default ``holdback`` is that span plus the lookahead, ``2L + MARGIN`` (124 characters for
  the built-in lexicon), so no part of a term is released before it counts. A term spread wider
  (a phrase padded with long runs of spaces) may have its start released first; it is still
  found, and the stream stopped, once it is whole;
- a hit that starts within ``L + MARGIN`` characters of where a check's text begins is left
  out (the text before it, which may allow it or make it part of a longer word, is not there);
  it was whole, with that context, in the check before.

Hits carry their spans in whole-reply offsets; a hit found by two checks counts once (by screen,
category and span).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Protocol, runtime_checkable

from hallmark.content import Content
from hallmark.policy import Policy
from hallmark.screen.base import Decision, Evidence, Hit, Screen, TextSpan, decide

CHECK_EVERY = 16
"""Characters that arrive between two checks; half as many when a delta ends a sentence or a
line."""
STOPS = frozenset(".!?。！？\n")
DEFAULT_LONGEST_TERM = 32
"""``L`` when no screen says how long its terms are."""
MARGIN = 16
"""Characters a term's span may take beyond its length: separators, extra spaces."""


@runtime_checkable
class TermScreen(Protocol):
    """A screen that finds terms where they are, each at most ``longest_term`` characters
    long as written: it can screen a stream a stretch at a time."""

    @property
    def longest_term(self) -> int: ...


@dataclass(slots=True, frozen=True)
class StreamStep:
    release: str
    """The text now safe to send the user, following what earlier steps released."""
    decision: Decision
    """The decision so far; on ``block``, send its ``refusal`` and nothing more."""


class StreamScreen:
    """Screens one streamed reply with ``screens`` (those that look at text) under ``policy``.

    ``holdback`` is how many characters behind the screened text the release runs (default:
    from the lexicons' longest term, see the module docstring); ``window`` the most characters
    one screening call reads (at least twice the context a check re-reads).
    """

    def __init__(
        self,
        screens: Iterable[Screen],
        policy: Policy,
        *,
        minor: bool = False,
        language: str | None = None,
        holdback: int | None = None,
        window: int = 2048,
    ) -> None:
        if holdback is not None and holdback < 0:
            raise ValueError(f"holdback must not be negative, got {holdback}")
        self._screens = tuple(screen for screen in screens if "text" in screen.media)
        incremental = [screen for screen in self._screens if isinstance(screen, TermScreen)]
        longest = max((screen.longest_term for screen in incremental), default=DEFAULT_LONGEST_TERM)
        self._incremental: tuple[Screen, ...] = tuple(incremental)
        self._policy = policy
        self._minor = minor
        self._language = language
        self._lookahead = longest
        self._lead = longest + MARGIN
        span = longest + MARGIN
        self._context = self._lead + span + self._lookahead
        self._window = max(window, 2 * self._context)
        self._holdback = span + self._lookahead if holdback is None else holdback
        self._buffer = io.StringIO()
        self._length = 0
        self._checked = 0  # the end of the text the last check read
        self._released = 0
        self._hits: dict[tuple[str, str, Evidence | None], Hit] = {}
        self._decision = decide((), policy, minor=minor, language=language)
        self._finished = False

    @property
    def holdback(self) -> int:
        """How many characters behind the screened text the release runs."""
        return self._holdback

    @property
    def decision(self) -> Decision:
        return self._decision

    @property
    def blocked(self) -> bool:
        return self._decision.action == "block"

    @property
    def text(self) -> str:
        """The reply as fed so far."""
        return self._buffer.getvalue()

    def feed(self, delta: str) -> StreamStep:
        """Take the next piece of the reply; screen when enough arrived; release what is safe."""
        if self._finished:
            raise RuntimeError("feed() after finish(): a StreamScreen screens one reply")
        if self.blocked or not delta:
            return StreamStep("", self._decision)
        self._buffer.seek(0, io.SEEK_END)
        self._buffer.write(delta)
        self._length += len(delta)
        unchecked = self._length - self._checked
        if unchecked >= CHECK_EVERY or (
            unchecked >= CHECK_EVERY // 2 and not STOPS.isdisjoint(delta)
        ):
            self._check()
        return StreamStep(self._release(self._checked - self._holdback), self._decision)

    def finish(self) -> StreamStep:
        """The reply is complete: screen all of it with every screen, release the rest unless
        that blocks. Calling it again returns the same decision and releases nothing."""
        if self._finished or self.blocked:
            self._finished = True
            return StreamStep("", self._decision)
        self._finished = True
        content = Content.from_text(self.text)
        self._add(hit for screen in self._screens for hit in screen.find(content))
        self._checked = self._length
        return StreamStep(self._release(self._length), self._decision)

    def _check(self) -> None:
        """Screen the text since the last check, with context, by the incremental screens."""
        end = self._length
        start = max(0, self._checked - self._context)
        found: list[Hit] = []
        while True:
            stop = min(end, start + self._window)
            found.extend(self._settled_hits(start, stop))
            if stop == end:
                break
            start = stop - self._context
        self._checked = end
        self._add(found)

    def _settled_hits(self, start: int, stop: int) -> list[Hit]:
        """Hits in ``text[start:stop]`` in whole-reply offsets, less those too near either end
        to be judged yet."""
        content = Content.from_text(self._read(start, stop))
        settled = []
        for screen in self._incremental:
            for hit in screen.find(content):
                span = hit.evidence
                if not isinstance(span, TextSpan):
                    settled.append(hit)
                    continue
                first, last = span.start + start, span.end + start
                if start and first < start + self._lead:
                    continue
                if last + self._lookahead > stop:
                    continue
                settled.append(replace(hit, evidence=TextSpan(first, last)))
        return settled

    def _add(self, hits: Iterable[Hit]) -> None:
        added = False
        for hit in hits:
            key = (hit.screen, hit.category, hit.evidence)
            if key not in self._hits:
                self._hits[key] = hit
                added = True
        if added:
            self._decision = decide(
                self._hits.values(), self._policy, minor=self._minor, language=self._language
            )

    def _release(self, end: int) -> str:
        if self.blocked or end <= self._released:
            return ""
        text = self._read(self._released, end)
        self._released = end
        return text

    def _read(self, start: int, stop: int) -> str:
        self._buffer.seek(start)
        return self._buffer.read(stop - start)
