"""The bundled table of Indonesian provinces, cities and ports."""

import pytest

from shared.kernel.geography import PROVINCES, City, cities, distance_km, find_city, find_place, is_province

pytestmark = pytest.mark.unit

EXPORT_HUBS = [
    "Bandung", "Semarang", "Surakarta", "Yogyakarta", "Malang", "Medan", "Samarinda", "Makassar",
    "Denpasar", "Cirebon", "Jepara", "Surabaya", "Jakarta",
]  # fmt: skip


def test_all_38_provinces_with_their_bps_codes() -> None:
    assert len(PROVINCES) == 38
    assert len(set(PROVINCES.values())) == 38
    assert PROVINCES["DKI Jakarta"] == "31"
    assert PROVINCES["Jawa Barat"] == "32"
    assert PROVINCES["DI Yogyakarta"] == "34"
    assert PROVINCES["Bali"] == "51"
    for new_papua_province in ["Papua Selatan", "Papua Tengah", "Papua Pegunungan", "Papua Barat Daya"]:
        assert is_province(new_papua_province)
    assert not is_province("Java")


def test_every_city_lies_in_a_known_province_within_indonesia() -> None:
    assert len(cities()) >= 60
    for city in cities():
        assert is_province(city.province), city
        assert -11.5 < city.latitude < 6.5 and 94.5 < city.longitude < 141.5, city


def test_every_province_has_a_city() -> None:
    assert {city.province for city in cities()} == set(PROVINCES)


@pytest.mark.parametrize("name", EXPORT_HUBS)
def test_export_hubs_are_known(name: str) -> None:
    city = find_city(name)
    assert city is not None and city.name == name


def test_city_lookup_ignores_case_and_knows_aliases() -> None:
    assert find_city("solo") == find_city("Surakarta")
    surakarta = find_city("SOLO")
    assert isinstance(surakarta, City) and surakarta.province == "Jawa Tengah"
    assert find_city("Lampung") == find_city("Bandar Lampung")
    assert find_city("Aceh") == find_city("Banda Aceh")
    assert find_city("Atlantis") is None


def test_ports_are_found_by_locode_or_name() -> None:
    priok = find_place("IDTPP")
    assert priok is not None and priok.kind == "port" and priok.name == "Tanjung Priok"
    assert find_place("idsub") == find_place("Tanjung Perak")
    perak = find_place("Tanjung Perak")
    assert perak is not None and perak.province == "Jawa Timur"
    for locode in ["IDSRG", "IDBLW", "IDMAK", "IDBOA", "IDCBN", "IDSRI", "IDBPN", "IDPLM", "IDPNK", "IDBIT"]:
        place = find_place(locode)
        assert place is not None and place.locode == locode


def test_a_city_is_a_consolidation_point_too() -> None:
    place = find_place("Jepara")
    assert place is not None and place.kind == "city" and place.locode is None
    assert find_place("nowhere") is None


def test_jakarta_to_surabaya_great_circle() -> None:
    assert 660 <= distance_km("Jakarta", "Surabaya") <= 700


def test_distance_is_symmetric_and_zero_to_itself() -> None:
    bandung, priok = find_city("Bandung"), find_place("IDTPP")
    assert bandung is not None and priok is not None
    assert distance_km(bandung, priok) == pytest.approx(distance_km(priok, bandung))
    assert 90 < distance_km(bandung, priok) < 140
    assert distance_km(bandung, bandung) == 0.0


def test_unknown_place_name_is_an_error() -> None:
    with pytest.raises(KeyError):
        distance_km("Jakarta", "Atlantis")
