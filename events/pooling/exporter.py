"""An aggregator's identity as an exporter (stream ``exporter-<org>``): what its trade documents and export
declarations name instead of its organisation id."""

from __future__ import annotations

from datetime import datetime

from events.base import Event


class ExporterProfileSet(Event, frozen=True, kw_only=True, tag="pooling.ExporterProfileSet.v1"):
    """The whole exporter profile after a change: registered name, NIB (13 digits), NPWP (tax number, 15 or 16
    digits) and address; ``set_by`` is who changed it."""

    org: str
    name: str
    nib: str
    npwp: str
    address: str
    set_by: str
    at: datetime
