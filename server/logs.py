"""Log lines: plain text on a laptop, one JSON object per line for a log collector
(XIETONG_LOG_FORMAT=json).

A request's line carries its id, the user's id, the route's pattern (not the address, whose
query string may hold a feed token), the status and the duration; never a body, a header, a
password or a token.
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Any

REQUEST_LOGGER = "xietong.requests"
# The attributes a record may carry into its JSON line, beside the message.
_FIELDS = ("request_id", "user_id", "method", "route", "status", "duration_ms", "job", "outcome")


def json_wanted() -> bool:
    return os.environ.get("XIETONG_LOG_FORMAT", "").strip().lower() == "json"


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in _FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                line[field] = value
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure(level: str = "INFO") -> bool:
    """Set up the root logger for this process; True when lines are JSON (uvicorn's own
    access log then stays off: our request line says the same without the query string)."""
    handler = logging.StreamHandler()
    as_json = json_wanted()
    handler.setFormatter(
        JsonLines() if as_json else logging.Formatter("%(levelname)s: %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    if as_json:
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "arq", "arq.worker"):
            logger = logging.getLogger(name)
            logger.handlers[:] = []
            logger.propagate = True
    return as_json
