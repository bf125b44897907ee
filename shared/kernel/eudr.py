"""The commodities and HS headings of Annex I of the EU deforestation regulation, and the limits a due diligence
statement must keep, as shipped in ``eudr_annex_i.json``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

DATA = Path(__file__).with_name("eudr_annex_i.json")


@dataclass(frozen=True)
class Heading:
    """An HS heading (or subheading, or chapter) Annex I lists, with the supplementary unit it needs, if any."""

    commodity: str
    prefix: str
    description: str
    supplementary_unit: str | None


@dataclass(frozen=True)
class Limits:
    geojson_bytes: int
    producers_per_commodity: int
    producers_per_commodity_source: str


@dataclass(frozen=True)
class AnnexI:
    regulation: str
    cut_off: date
    commodities: dict[str, str]  # key → name
    headings: tuple[Heading, ...]  # longest prefix first
    limits: Limits
    supplementary_units: dict[str, tuple[str, ...]]  # unit → UN/ECE codes a quantity in that unit may carry

    def heading_of(self, hs_code: str) -> Heading | None:
        """The most specific Annex I heading an HS code falls under, or None when the regulation does not cover it."""
        digits = hs_code.replace(".", "").replace(" ", "")
        return next((h for h in self.headings if digits.startswith(h.prefix)), None)

    def commodity_of(self, hs_code: str) -> str | None:
        heading = self.heading_of(hs_code)
        return heading.commodity if heading else None


@cache
def annex_i() -> AnnexI:
    raw = json.loads(DATA.read_text(encoding="utf-8"))
    headings = [
        Heading(c["key"], h["prefix"], h["description"], h.get("supplementary_unit"))
        for c in raw["commodities"]
        for h in c["headings"]
    ]
    limits = raw["limits"]
    return AnnexI(
        regulation=raw["regulation"],
        cut_off=date.fromisoformat(raw["deforestation_cut_off"]),
        commodities={c["key"]: c["name"] for c in raw["commodities"]},
        headings=tuple(sorted(headings, key=lambda h: -len(h.prefix))),
        limits=Limits(
            limits["geojson_bytes"], limits["producers_per_commodity"], limits["producers_per_commodity_source"]
        ),
        supplementary_units={k: tuple(v["un_ece"]) for k, v in raw["supplementary_units"].items()},
    )
