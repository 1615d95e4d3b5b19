"""Counting the SQL statements Tortoise sends, for the benchmarks' printed figures."""

from __future__ import annotations

import logging

_LOGGER = "tortoise.db_client"


class StatementCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0
        # Value rows sent in batched writes of schedule rows (an executemany logs them all).
        self.schedule_rows = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        message = record.getMessage()
        if message.startswith('INSERT INTO "task_schedule"'):
            self.schedule_rows += message.split(": ", 1)[1].count("], [") + 1


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
