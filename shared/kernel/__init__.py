"""Gotong's pure kernel: deciders, ids, errors, units, money and currencies, countries, Indonesia's geography and
the clock port. Nothing here does I/O or imports a framework (a test imports it with those made unimportable)."""
