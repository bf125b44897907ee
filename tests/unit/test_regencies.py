"""Every regency and city of Indonesia (kabupaten/kota) is a place Gotong knows, by name in its usual forms or by
its Kemendagri code; what it does not know is refused with what it would accept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.kernel.geography import cities, city_refusal, distance_km, find_city, find_place

pytestmark = pytest.mark.unit

FIRST_87 = Path(__file__).with_name("first_87_cities.json")  # the gazetteer before it knew every regency


def test_all_514_regencies_and_cities_are_known_each_once_with_its_code_and_province() -> None:
    regencies = {city.code: city for city in cities() if city.code}
    assert len(regencies) == 514
    assert all(len(code) == 5 and code[2] == "." for code in regencies)
    for city in cities():
        assert -11.5 < city.latitude < 6.5 and 94.5 < city.longitude < 141.5, city
        assert find_city(city.name) == city, city.name
    kab = find_city("32.09")
    assert kab is not None and (kab.name, kab.province) == ("Kabupaten Cirebon", "Jawa Barat")


@pytest.mark.parametrize(
    "said", ["Kabupaten Cirebon", "Kab. Cirebon", "kab cirebon", "KABUPATEN  CIREBON", "32.09", "3209", "Kab.Cirebon"]
)
def test_a_regency_is_found_by_any_of_its_usual_names_or_its_code(said: str) -> None:
    found = find_city(said)
    assert found is not None and found.code == "32.09", said


def test_a_bare_name_shared_by_a_kota_and_a_kabupaten_means_the_kota() -> None:
    kota, bare = find_city("Kota Cirebon"), find_city("Cirebon")
    assert kota is not None and kota == bare and kota.code == "32.74"
    malang = find_city("malang")
    assert malang is not None and malang.regency == "Kota Malang"
    regency = find_city("Kabupaten Malang")
    assert regency is not None and regency.code == "35.07" and regency != malang


def test_regencies_beyond_the_first_87_and_their_former_names() -> None:
    for said, code in [("Aceh Selatan", "11.01"), ("Kab. Toba Samosir", "12.12"), ("Tojo Una-Una", "72.09"),
                       ("Kota Administrasi Jakarta Selatan", "31.74"), ("Kabupaten Kepulauan Seribu", "31.01"),
                       ("Pangkalpinang", "19.71"), ("Kota Tanjungpinang", "21.72")]:  # fmt: skip
        found = find_city(said)
        assert found is not None and found.code == code, (said, found)


def test_the_first_87_keep_their_names_and_coordinates() -> None:
    old = {c["name"]: c for c in json.loads(FIRST_87.read_text(encoding="utf-8"))}
    assert len(old) == 87
    for name, entry in old.items():
        city = find_city(name)
        assert city is not None and city.name == name and city.province == entry["province"]
        assert (city.latitude, city.longitude) == (entry["latitude"], entry["longitude"])
        for alias in entry["aliases"]:
            assert find_city(alias) is not None, alias


def test_a_new_regency_is_a_consolidation_point_with_a_great_circle_distance() -> None:
    place = find_place("Kabupaten Kotawaringin Timur")
    assert place is not None and place.kind == "city"
    assert 0 < distance_km("Kabupaten Cirebon", "Cirebon") < 20


def test_a_village_is_refused_with_its_regency_suggested() -> None:
    assert find_city("Tegalwangi") is None
    message = city_refusal("Tegalwangi")
    assert "village" in message and '"Kabupaten Cirebon"' in message and "32.09" in message, message


def test_a_misspelt_city_is_refused_with_close_matches_and_how_to_name_one() -> None:
    message = city_refusal("Cirebn")
    assert '"Cirebon"' in message and "Kab." in message and "code" in message, message
    assert "514" in city_refusal("Atlantis")
