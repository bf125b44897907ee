"""Indonesian provinces, regencies and cities, and ports, and great-circle distances between them.

The data lives in ``geography_data.json`` beside this module (BPS province codes; every regency and city,
kabupaten and kota, with its Kemendagri code and coordinates; UN/LOCODEs of ports) and is read once, on first
use. ``geography_places.tsv.gz`` names the districts and villages of each regency, read only to explain a
refusal. Where both came from is in the README.

A city is found by its name, its official name in the usual forms ("Kabupaten Cirebon", "Kab. Cirebon",
"Kota Cirebon"), a former name, or its code ("32.09"). A bare name shared by a kota and a kabupaten
("Cirebon") means the kota, the city proper; the regency around it is "Kabupaten Cirebon".
"""

from __future__ import annotations

import difflib
import gzip
import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal, Protocol

EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True, slots=True)
class City:
    """A regency or city (kabupaten/kota), or a town among the first cities Gotong knew, with its regency's code."""

    name: str
    province: str
    latitude: float
    longitude: float
    code: str = ""
    regency: str = ""


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


_CODE = re.compile(r"^(\d{2})\.?(\d{2})$")
_PREFIX = re.compile(r"^(?:(kabupaten|kota)\s+|(kab)(?:\.\s*|\s+))(?:administrasi\s+|adm\.\s*)?")


def _key(name: str) -> str:
    return " ".join(name.casefold().replace("-", " ").split())


def _squashed(name: str) -> str:
    """A name without spaces, hyphens or dots, so "Pangkalpinang" meets "Pangkal Pinang"."""
    return re.sub(r"[\s\-.'’]+", "", name.casefold())


def _forms(city: City, aliases: list[str]) -> list[str]:
    """Every name a city answers to, strongest first: its name, its official name and short forms, aliases."""
    forms = [city.name]
    if city.regency:
        forms.append(city.regency)
        kind, _, bare = city.regency.partition(" ")
        bare = bare.removeprefix("Administrasi ")
        forms += [f"{kind} {bare}", f"Kab. {bare}"] if kind == "Kabupaten" else [f"Kota {bare}"]
    return forms + aliases


@cache
def _gazetteer() -> _Gazetteer:
    text = resources.files("shared.kernel").joinpath("geography_data.json").read_text(encoding="utf-8")
    raw = json.loads(text)
    provinces = {str(p["name"]): str(p["code"]) for p in raw["provinces"]}
    cities: list[City] = []
    city_by_key: dict[str, City] = {}
    forms: list[tuple[City, list[str]]] = []
    for entry in raw["cities"]:
        city = City(
            entry["name"],
            entry["province"],
            float(entry["latitude"]),
            float(entry["longitude"]),
            code=entry.get("code", ""),
            regency=entry.get("regency", ""),
        )
        cities.append(city)
        forms.append((city, _forms(city, entry["aliases"])))
        if city.code and not entry.get("town"):
            city_by_key[city.code] = city
    for depth in range(max(len(names) for _, names in forms)):  # names first, then official forms, then aliases
        for city, names in forms:
            if depth < len(names):
                city_by_key.setdefault(_key(names[depth]), city)
                city_by_key.setdefault(_squashed(names[depth]), city)
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


def regencies() -> tuple[City, ...]:
    """Indonesia's 514 regencies and cities (kabupaten/kota), in code order; the towns among cities() left out."""
    by_key = _gazetteer().city_by_key
    return tuple(sorted((c for c in cities() if c.code and by_key.get(c.code) is c), key=lambda c: c.code))


def find_city(name: str) -> City | None:
    """The city of that name, official name, alias or code (case-insensitive, e.g. "solo" → Surakarta)."""
    by_key = _gazetteer().city_by_key
    code = _CODE.match(name.strip())
    if code:
        return by_key.get(f"{code.group(1)}.{code.group(2)}")
    key = _key(name)
    prefix = _PREFIX.match(key)
    if prefix:  # "kab. cirebon", "kota adm. jakarta pusat": the official form
        kind = "Kota" if prefix.group(1) == "kota" else "Kabupaten"
        found = by_key.get(_key(f"{kind} {key[prefix.end() :]}"))
        if found is not None:
            return found
    return by_key.get(key) or by_key.get(_squashed(name))


HOW_TO_NAME = (
    "Gotong knows all 514 regencies and cities (kabupaten/kota) of Indonesia: give the name "
    '("Surakarta", "Kabupaten Cirebon", "Kab. Cirebon", "Kota Cirebon"; a bare name shared by a kota and a '
    'kabupaten means the kota) or the Kemendagri code ("32.09"); GET /v1/regions?q=… lists them'
)


def province_refusal() -> str:
    return f"must be one of Indonesia's {len(PROVINCES)} provinces: {', '.join(PROVINCES)}"


def city_refusal(name: str) -> str:
    """Why ``name`` is not a city Gotong knows, with what it would accept instead."""
    cities_of = {city.code: city for city in reversed(_gazetteer().cities)}  # a regency before a town of its code
    regencies = {code: f'"{city.regency}" ({code})' for code, city in cities_of.items() if code}
    within = _places().get(_key(name), [])
    if within:
        kinds = {kind for kind, _ in within}
        what = " or ".join(
            sorted({"district": "district (kecamatan)", "village": "village (desa/kelurahan)"}[k] for k in kinds)
        )
        codes = sorted({code for _, codes in within for code in codes if code in regencies})
        listed = ", ".join(regencies[code] for code in codes[:8]) + (", …" if len(codes) > 8 else "")
        return f"{name} is a {what}, not a regency or city; give its regency instead: {listed}"
    keys = {_key(city.name): city.name for city in _gazetteer().cities}
    keys.update({_key(city.regency): city.regency for city in _gazetteer().cities if city.regency})
    close = difflib.get_close_matches(_key(name), list(keys), n=5, cutoff=0.75)
    quoted = ", ".join(f'"{keys[k]}"' for k in close)
    hint = f"did you mean {quoted}? " if close else ""
    return f"is not a regency or city of Indonesia; {hint}{HOW_TO_NAME}"


@cache
def _places() -> dict[str, list[tuple[str, list[str]]]]:
    """District and village name → (kind, codes of the regencies that have one of that name)."""
    raw = resources.files("shared.kernel").joinpath("geography_places.tsv.gz").read_bytes()
    places: dict[str, list[tuple[str, list[str]]]] = {}
    for line in gzip.decompress(raw).decode("utf-8").splitlines():
        name, kind, codes = line.split("\t")
        places.setdefault(_key(name), []).append((kind, codes.split()))
    return places


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
