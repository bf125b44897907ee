"""ISO 4217 currencies in circulation, with the number of decimal places (minor units) each one uses.

Fund codes, precious metals and testing codes (BOV, CLF, XAU, XDR, XTS, …) are left out: prices on an export
marketplace are quoted in circulating currencies.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

_NOT_TWO = {
    "BHD": 3, "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "IQD": 3, "ISK": 0, "JOD": 3, "JPY": 0, "KMF": 0,
    "KRW": 0, "KWD": 3, "LYD": 3, "OMR": 3, "PYG": 0, "RWF": 0, "TND": 3, "UGX": 0, "VND": 0, "VUV": 0,
    "XAF": 0, "XOF": 0, "XPF": 0,
}  # fmt: skip

_CODES = """
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD
CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD
GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT
LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR
NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP
STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD
XCG XOF XPF YER ZAR ZMW ZWG
"""

CURRENCIES: Mapping[str, int] = MappingProxyType({code: _NOT_TWO.get(code, 2) for code in _CODES.split()})
"""Currency code → minor units (decimal places), e.g. ``IDR`` → 2, ``JPY`` → 0, ``KWD`` → 3."""


def is_currency(code: str) -> bool:
    """Is ``code`` an ISO 4217 currency in circulation (upper case, e.g. ``"IDR"``)?"""
    return code in CURRENCIES


def minor_units(code: str) -> int:
    """How many decimal places amounts in this currency may have; raises ``KeyError`` for unknown codes."""
    return CURRENCIES[code]
