"""An MSME's answer given outside the API, settled (stream ``answer-<answer_id>`` in pooling's store).

Notifications records the answer (``notifications.AnswerGiven``); pooling runs the same accept or decline the
API runs and says how it went: ``accepted`` (``quantity`` of ``requested``), ``declined``, or ``refused`` with
the problem type and detail the API would have answered (over-allocation, expired, not answerable, not found).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from events.base import Event

AnswerOutcome = Literal["accepted", "declined", "refused"]


class AnswerSettled(Event, frozen=True, kw_only=True, tag="pooling.AnswerSettled.v1"):
    answer_id: UUID
    request_id: UUID
    msme_id: UUID
    outcome: AnswerOutcome
    requested: int
    quantity: int
    problem: str | None = None
    detail: str | None = None
    at: datetime
