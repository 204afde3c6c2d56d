"""Conversation retention (Interim Measures art. 11): nothing a user typed is kept longer than
``conversation_retention_days`` after the conversation was last touched.

``hallmark conversations prune`` prunes on demand; the server prunes once as it starts and then
once a day (``start_pruning``).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hallmark.assistant.conversations import prune_conversations
from hallmark.assistant.usage import prune_usage
from hallmark.jobs.daily import start_daily

if TYPE_CHECKING:
    from hallmark.services import Services

log = logging.getLogger(__name__)


@dataclass(slots=True, frozen=True)
class Pruned:
    older_than_days: int
    conversations: int
    usage_days: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "older_than_days": self.older_than_days,
            "conversations": self.conversations,
            "usage_days": self.usage_days,
        }


def prune_expired(services: Services, older_than_days: int | None = None) -> Pruned:
    """Delete conversations (with their messages) and usage days past retention, and record
    in the ledger how many went when any did."""
    days = (
        older_than_days
        if older_than_days is not None
        else services.settings.conversation_retention_days
    )
    with services.db.session() as session:
        pruned = Pruned(
            days,
            prune_conversations(session, older_than_days=days),
            prune_usage(session, older_than_days=days),
        )
        if pruned.conversations or pruned.usage_days:
            services.ledger.append(session, "assistant.conversations_pruned", pruned.to_dict())
    return pruned


def start_pruning(services: Services) -> asyncio.Task[None]:
    """Prune now, then once a day in the running event loop; cancel the task to stop."""
    return start_daily(lambda: prune_expired(services), "pruning conversations past retention")
