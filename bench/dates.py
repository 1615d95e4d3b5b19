"""Formatting the dates of a 500-task plan page (some 2,000, over a few hundred distinct
days), side by side in one run:

1. ours — `server.i18n.format_day`: the Babel Locale parsed once per process, each
   (day, language) formatted once;
2. baseline — what it did before (issue 24's profile): `babel.dates.format_date` with
   `Locale.parse` on every call.

    .venv/bin/python bench/dates.py [dates, default 2000]
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from babel import Locale  # noqa: E402
from babel.dates import format_date  # noqa: E402

from server import i18n  # noqa: E402


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    days = [date(2026, 9, 1) + timedelta(days=n % 300) for n in range(count)]
    for day in days[:3]:  # the same text either way
        assert i18n.format_day(day, "zh-CN") == format_date(
            day, format="medium", locale=Locale.parse("zh_CN")
        )
    ours, baseline = [], []
    for _ in range(9):
        started = time.perf_counter()
        for day in days:
            format_date(day, format="medium", locale=Locale.parse("zh_CN"))
        baseline.append(time.perf_counter() - started)
        started = time.perf_counter()
        for day in days:
            i18n.format_day(day, "zh-CN")
        ours.append(time.perf_counter() - started)
    a, b = statistics.median(ours) * 1000, statistics.median(baseline) * 1000
    print(
        f"{count:,} dates (zh-CN, medians of 9): ours {a:.2f} ms, Locale.parse each time {b:.1f} ms"
    )
    print(f"ratio ours / baseline: {a / b:.3f}x")


if __name__ == "__main__":
    main()
