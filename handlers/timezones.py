"""A person's time zone: what they set in /profile, else their country's, else the configured one.

Zones are IANA names, converted with `zoneinfo`. The country → zone table is the IANA database's
own `zone.tab` and `iso3166.tab`, read (once, on first use) from the `tzdata` package or the
system's zoneinfo directory: nothing is downloaded.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import datetime, tzinfo
from functools import cache
from importlib import resources
from pathlib import Path

# Countries with several zones whose first line in zone.tab is not where most people live.
_MAIN_ZONE = {
    "AU": "Australia/Sydney",
    "BR": "America/Sao_Paulo",
    "CA": "America/Toronto",
    "CL": "America/Santiago",
    "EC": "America/Guayaquil",
    "ID": "Asia/Jakarta",
    "KZ": "Asia/Almaty",
    "MX": "America/Mexico_City",
    "NZ": "Pacific/Auckland",
    "RU": "Europe/Moscow",
    "UA": "Europe/Kyiv",
    "US": "America/New_York",
}
# Names people type that are neither a zone's city nor a country.
_ALIASES = {
    "ist": "Asia/Kolkata",
    "india": "Asia/Kolkata",
    "mumbai": "Asia/Kolkata",
    "bombay": "Asia/Kolkata",
    "delhi": "Asia/Kolkata",
    "new delhi": "Asia/Kolkata",
    "bangalore": "Asia/Kolkata",
    "bengaluru": "Asia/Kolkata",
    "chennai": "Asia/Kolkata",
    "madras": "Asia/Kolkata",
    "hyderabad": "Asia/Kolkata",
    "pune": "Asia/Kolkata",
    "calcutta": "Asia/Kolkata",
    "utc": "UTC",
    "gmt": "UTC",
    "uk": "Europe/London",
    "usa": "America/New_York",
}
# Offsets that are not whole hours have no Etc/GMT zone: the main zone that keeps them.
_ODD_OFFSETS = {
    -570: "Pacific/Marquesas",
    -210: "America/St_Johns",
    210: "Asia/Tehran",
    270: "Asia/Kabul",
    330: "Asia/Kolkata",
    345: "Asia/Kathmandu",
    390: "Asia/Yangon",
    525: "Australia/Eucla",
    570: "Australia/Darwin",
    630: "Australia/Lord_Howe",
    765: "Pacific/Chatham",
}
_OFFSET = re.compile(r"^(?:utc|gmt)?\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?$")


def _data_file(name: str) -> str:
    """A table of the IANA database, from the tzdata package if installed, else the system's."""
    try:
        return (resources.files("tzdata") / "zoneinfo" / name).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        for root in zoneinfo.TZPATH:
            path = Path(root) / name
            if path.is_file():
                return path.read_text(encoding="utf-8")
    return ""


def _rows(name: str) -> list[list[str]]:
    lines = _data_file(name).splitlines()
    return [line.split("\t") for line in lines if line and not line.startswith("#")]


@cache
def _countries() -> dict[str, str]:
    """Casefolded country code or name → ISO code ("in", "india" → "IN")."""
    table: dict[str, str] = {}
    for row in _rows("iso3166.tab"):
        if len(row) >= 2:
            table[row[0].casefold()] = row[0]
            table[row[1].strip().casefold()] = row[0]
    return table


@cache
def _country_zones() -> dict[str, str]:
    """ISO code → the zone of the country's first line in zone.tab (its main one, mostly)."""
    table: dict[str, str] = {}
    for row in _rows("zone.tab"):
        if len(row) >= 3:
            table.setdefault(row[0], row[2])
    return {**table, **_MAIN_ZONE}


@cache
def _zones() -> dict[str, str]:
    """Casefolded zone name, and the city part of it ("kolkata", "new york") → zone name."""
    table: dict[str, str] = {}
    names = sorted(zoneinfo.available_timezones())
    for name in names:
        table[name.casefold()] = name
    for name in names:  # a city never hides a full name; the first region with it wins
        if "/" in name and not name.startswith(("Etc/", "SystemV/", "US/")):
            table.setdefault(name.rsplit("/", 1)[1].replace("_", " ").casefold(), name)
    return table


def country_zone(country: str | None) -> str | None:
    """The main zone of a country typed as a code or a name ("IN", "India"); None if unknown."""
    code = _countries().get(" ".join((country or "").split()).casefold())
    return _country_zones().get(code) if code else None


def parse_zone(raw: str) -> str | None:
    """The IANA zone for what a person typed: a zone name ("Asia/Kolkata", any case), a city of
    one ("Kolkata", "new york"), a country, or an offset ("+5:30", "UTC-3"); None if unknown."""
    text = " ".join(raw.split()).casefold()
    if not text:
        return None
    if found := _OFFSET.match(text.replace(" ", "")):
        sign, hours, minutes = found.group(1), int(found.group(2)), int(found.group(3) or 0)
        total = (hours * 60 + minutes) * (-1 if sign == "-" else 1)
        if minutes == 0 and -12 <= total // 60 <= 14:
            # Etc/GMT signs are inverted (POSIX): UTC+5 is Etc/GMT-5.
            return "UTC" if total == 0 else f"Etc/GMT{-total // 60:+d}"
        return _ODD_OFFSETS.get(total)
    found_name = _ALIASES.get(text) or _zones().get(text.replace(" ", "_")) or _zones().get(text)
    return found_name or country_zone(text)


def zone_for(time_zone: str | None, country: str | None, default: str) -> tzinfo:
    """The zone a person's local time is told in: theirs, else their country's, else `default`
    (else UTC, if even that is not a known zone)."""
    for name in (time_zone, country_zone(country), default):
        if name:
            try:
                return zoneinfo.ZoneInfo(name)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                continue
    return zoneinfo.ZoneInfo("UTC")


def local_time(now: datetime, zone: tzinfo) -> datetime:
    """`now` (aware) in `zone`."""
    return now.astimezone(zone)
