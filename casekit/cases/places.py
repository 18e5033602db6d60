"""Where a case happened: its ``country`` (ISO 3166-1 alpha-2) and ``timezone`` (IANA).

Countries are checked against the ISO 3166-1 list of the ``pycountry`` package, time zones
against :func:`zoneinfo.available_timezones` (the system's database, or the ``tzdata``
package where the system has none). A country name or a three-letter code is answered with
the two-letter code to write instead.

Examples
--------
>>> _country_problem("GB") is None, _timezone_problem("Europe/London") is None
(True, True)
>>> _country_problem("United Kingdom")
("'United Kingdom' is a country name, not its ISO 3166-1 alpha-2 code", "'GB'")
>>> _timezone_problem("Mars/Olympus_Mons")[0]
"unknown time zone 'Mars/Olympus_Mons'"
"""

from __future__ import annotations

import functools
import zoneinfo

COUNTRY_EXPECTED = "an ISO 3166-1 alpha-2 code such as US, GB or DE"
TIMEZONE_EXPECTED = "an IANA time zone name such as Europe/London, America/Chicago or UTC"

# Codes people write that ISO 3166-1 does not assign (UK is reserved for the United Kingdom,
# whose code is GB).
_NOT_ISO = {"UK": "GB", "EN": "GB"}


def _country_problem(value: str) -> tuple[str, str] | None:
    """(what is wrong, what would be right) unless ``value`` is an ISO 3166-1 alpha-2 code."""
    import pycountry  # on first use: 80 ms to import, and only validation needs it

    if len(value) == 2 and value.isupper() and pycountry.countries.get(alpha_2=value):
        return None
    if value.upper() in _NOT_ISO:
        return f"{value!r} is not an ISO 3166-1 code", repr(_NOT_ISO[value.upper()])
    try:
        found = pycountry.countries.lookup(value.strip())
    except LookupError:
        return f"unknown country {value!r}", COUNTRY_EXPECTED
    if len(value.strip()) > 3:
        return f"{value!r} is a country name, not its ISO 3166-1 alpha-2 code", repr(found.alpha_2)
    return f"{value!r} is not an ISO 3166-1 alpha-2 code", repr(found.alpha_2)


@functools.lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _timezone_problem(value: str) -> tuple[str, str] | None:
    """(what is wrong, what would be right) unless ``value`` names an IANA time zone."""
    zones = _zones()
    if not zones or value in zones:  # no database at all: nothing to check against
        return None
    folded = {z.lower(): z for z in zones}
    right = folded.get(value.strip().lower())
    if right is not None:
        return f"time zone {value!r} is not spelt as in the IANA database", repr(right)
    return f"unknown time zone {value!r}", TIMEZONE_EXPECTED
