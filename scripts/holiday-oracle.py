#!/usr/bin/env python3
"""Writes crates/domain/tests/it/data/holidays-oracle.txt: the French public holidays (mainland
and Alsace-Moselle) for 1982-2100 according to the python-holidays package, an independent
source against which Vigie's own holiday rules are tested.
Usage: pip install holidays && python3 scripts/holiday-oracle.py"""

import os

import holidays

lines = [
    "# Independent oracle for the French public holiday calendars: dates from the python-holidays",
    f"# package (version {holidays.__version__}), holidays.France(years=Y) and holidays.France(years=Y, subdiv='57')",
    "# for Alsace-Moselle, years 1982 to 2100. One line: date and calendar.",
    "# Written by scripts/holiday-oracle.py.",
]
for year in range(1982, 2101):
    for calendar, days in (("business", holidays.France(years=year)), ("business-alsace-moselle", holidays.France(years=year, subdiv="57"))):
        lines.extend(f"{day.isoformat()} {calendar}" for day in sorted(days.keys()))
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crates", "domain", "tests", "it", "data", "holidays-oracle.txt")
with open(path, "w", encoding="utf-8") as out:
    out.write("\n".join(lines) + "\n")
