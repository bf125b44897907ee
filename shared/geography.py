"""Indonesian provinces, cities and ports, and great-circle distances between them.

The data lives in ``geography_data.json`` beside this module (BPS province codes, city coordinates,
UN/LOCODEs of ports) and is read once, on first use.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal, Protocol

EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True, slots=True)
class City:
    name: str
    province: str
    latitude: float
    longitude: float


@dataclass(frozen=True, slots=True)
class Place:
    """A consolidation point: a city or a port (ports carry their UN/LOCODE)."""

    name: str
    kind: Literal["city", "port"]
    province: str
    latitude: float
    longitude: float
    locode: str | None = None


class Located(Protocol):
    @property
    def latitude(self) -> float: ...

    @property
    def longitude(self) -> float: ...


@dataclass(frozen=True, slots=True)
class _Gazetteer:
    provinces: dict[str, str]
    cities: tuple[City, ...]
    city_by_key: dict[str, City]
    port_by_key: dict[str, Place]


def _key(name: str) -> str:
    return " ".join(name.casefold().replace("-", " ").split())


@cache
def _gazetteer() -> _Gazetteer:
    text = resources.files("shared").joinpath("geography_data.json").read_text(encoding="utf-8")
    raw = json.loads(text)
    provinces = {str(p["name"]): str(p["code"]) for p in raw["provinces"]}
    cities: list[City] = []
    city_by_key: dict[str, City] = {}
    for entry in raw["cities"]:
        city = City(entry["name"], entry["province"], float(entry["latitude"]), float(entry["longitude"]))
        cities.append(city)
        for name in (city.name, *entry["aliases"]):
            city_by_key.setdefault(_key(name), city)
    port_by_key: dict[str, Place] = {}
    for entry in raw["ports"]:
        port = Place(
            name=entry["name"],
            kind="port",
            province=entry["province"],
            latitude=float(entry["latitude"]),
            longitude=float(entry["longitude"]),
            locode=entry["locode"],
        )
        for name in (port.locode, port.name, *entry["aliases"]):
            port_by_key.setdefault(_key(name), port)
    return _Gazetteer(provinces, tuple(cities), city_by_key, port_by_key)


class _Provinces(Mapping[str, str]):
    """Province name → BPS code, read from the data file on first access."""

    def __getitem__(self, name: str) -> str:
        return _gazetteer().provinces[name]

    def __iter__(self) -> Iterator[str]:
        return iter(_gazetteer().provinces)

    def __len__(self) -> int:
        return len(_gazetteer().provinces)

    def __repr__(self) -> str:
        return f"PROVINCES({len(self)} provinces)"


PROVINCES: Mapping[str, str] = _Provinces()


def is_province(name: str) -> bool:
    return name in _gazetteer().provinces


def cities() -> tuple[City, ...]:
    return _gazetteer().cities


def find_city(name: str) -> City | None:
    """The city of that name or alias (case-insensitive, e.g. "solo" → Surakarta)."""
    return _gazetteer().city_by_key.get(_key(name))


def find_place(name_or_locode: str) -> Place | None:
    """A consolidation point by UN/LOCODE, port name, or city name (ports win on a shared name)."""
    key = _key(name_or_locode)
    port = _gazetteer().port_by_key.get(key)
    if port is not None:
        return port
    city = _gazetteer().city_by_key.get(key)
    if city is None:
        return None
    return Place(city.name, "city", city.province, city.latitude, city.longitude)


def _locate(point: Located | str) -> Located:
    if not isinstance(point, str):
        return point
    place = find_place(point)
    if place is None:
        raise KeyError(f"unknown place: {point!r}")
    return place


def distance_km(a: Located | str, b: Located | str) -> float:
    """Great-circle (haversine) distance in km between two places, or their names or UN/LOCODEs."""
    first, second = _locate(a), _locate(b)
    lat1, lat2 = math.radians(first.latitude), math.radians(second.latitude)
    dlat = lat2 - lat1
    dlon = math.radians(second.longitude - first.longitude)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))
