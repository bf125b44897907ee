"""Units of measure products and order lines are quantified in: UN/ECE Recommendation 20 codes of export trade."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

UNITS: Mapping[str, str] = MappingProxyType(
    {
        # counts
        "C62": "one",
        "H87": "piece",
        "PCE": "piece",
        "NAR": "number of articles",
        "SET": "set",
        "PR": "pair",
        "DZN": "dozen",
        "DPC": "dozen pieces",
        "DPR": "dozen pairs",
        "GRO": "gross",
        "T3": "thousand pieces",
        # mass
        "MGM": "milligram",
        "GRM": "gram",
        "HGM": "hectogram",
        "KGM": "kilogram",
        "TNE": "tonne (metric ton)",
        "KTN": "kilotonne",
        "LBR": "pound",
        "ONZ": "ounce",
        "STN": "ton (US) or short ton",
        "LTN": "ton (UK) or long ton",
        # length
        "MMT": "millimetre",
        "CMT": "centimetre",
        "MTR": "metre",
        "KMT": "kilometre",
        "LM": "linear metre",
        "INH": "inch",
        "FOT": "foot",
        "YRD": "yard",
        # area
        "CMK": "square centimetre",
        "MTK": "square metre",
        "FTK": "square foot",
        # volume
        "MLT": "millilitre",
        "LTR": "litre",
        "CMQ": "cubic centimetre",
        "DMQ": "cubic decimetre",
        "MTQ": "cubic metre",
        "FTQ": "cubic foot",
        "GLL": "gallon (US)",
        "BLL": "barrel (US)",
        # packages (UN/ECE Recommendation 21 codes as adopted in Recommendation 20)
        "XBG": "bag",
        "XBX": "box",
        "XCT": "carton",
        "XCR": "crate",
        "XPK": "package",
        "XPX": "pallet",
        "XRO": "roll",
        "XSA": "sack",
        "XBA": "barrel",
        # the same packages by their bare Recommendation 21 codes, as many trading systems still send them
        "BG": "bag",
        "BX": "box",
        "CT": "carton",
        "CR": "crate",
        "PK": "package",
        "RO": "roll",
        "SA": "sack",
        "BO": "bottle",
    }
)
"""Unit code → its name in Recommendation 20."""


def is_unit(code: str) -> bool:
    """Is ``code`` a unit of measure Gotong knows?"""
    return code in UNITS
