"""What a long-running process does once it has started."""

from __future__ import annotations

import gc


def settle_long_lived_objects() -> None:
    """Move everything made while starting (modules, schema, templates, compiled loops) out
    of the garbage collector's view.

    Those objects live as long as the process; without this, every full collection walks
    all of them again, and an edit of a 2,000-task plan (a few tens of thousands of short-lived
    rows) pays for several such walks: 85–100 ms instead of 50–65 ms (bench/cpm.py).
    """
    gc.collect()
    gc.freeze()
    # A request makes thousands of short-lived objects (a page of 100 tasks: their rows,
    # GraphQL objects and response dicts). At the default of one young-generation pass per
    # 700 allocations, that was a dozen passes a request, each walking what was alive at the
    # moment: 0.13-0.3 ms of a 3.5 ms page (bench/reads.py). Passes every 20,000 keep
    # unreachable cycles, which are rare here, bounded to a few megabytes.
    gc.set_threshold(20_000, 10, 10)
