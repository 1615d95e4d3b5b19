"""Counting the SQL statements Tortoise sends, for the benchmarks' printed figures."""

from __future__ import annotations

import logging

_LOGGER = "tortoise.db_client"


class StatementCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


def counting() -> StatementCounter:
    logger = logging.getLogger(_LOGGER)
    counter = StatementCounter()
    logger.setLevel(logging.DEBUG)
    logger.addHandler(counter)
    return counter


def stop_counting(counter: StatementCounter) -> None:
    logger = logging.getLogger(_LOGGER)
    logger.removeHandler(counter)
    logger.setLevel(logging.WARNING)
