"""The job-kind interface: validate parameters up front, then run with a progress callback."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from hallmark.services import Services

Progress = Callable[[float, str, dict[str, Any] | None], None]
"""progress(fraction 0..1, message, partial result to keep if the job is interrupted)"""


@dataclass(slots=True, frozen=True)
class JobContext:
    id: str
    tenant_id: str
    params: dict[str, Any]
    partial: dict[str, Any] | None  # what an interrupted earlier attempt saved


class JobKind(ABC):
    name: ClassVar[str]
    permission: ClassVar[str] = "jobs:use"

    @abstractmethod
    def validate(self, params: dict[str, Any]) -> dict[str, Any]:
        """Check and normalise parameters; raise UserError naming the problem."""

    @abstractmethod
    def run(self, services: Services, job: JobContext, progress: Progress) -> dict[str, Any]:
        """Do the work and return the result."""
