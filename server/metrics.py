"""What an operator watches, in Prometheus's text format (GET /metrics).

Every process keeps its own counters. The processes of one machine (the web processes of
`server.web --workers N` and the worker that `xietong run` starts beside them) write them
to files in one folder, PROMETHEUS_MULTIPROC_DIR, and whichever web process answers a
scrape adds them all up: behind SO_REUSEPORT a scrape cannot pick its process. The folder
is chosen before prometheus_client is first imported (it reads the variable then), so the
process that starts the others sets it (`prepare_shared_folder`).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

SHARED_FOLDER = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Pages answer in milliseconds, exports and PDFs in seconds.
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

REQUESTS = Counter(
    "xietong_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
REQUEST_SECONDS = Histogram(
    "xietong_http_request_duration_seconds",
    "Time to answer an HTTP request, by route",
    ["method", "route"],
    buckets=_LATENCY_BUCKETS,
)
GRAPHQL_OPERATIONS = Counter(
    "xietong_graphql_operations_total",
    "GraphQL operations by name (anonymous when unnamed) and outcome",
    ["operation", "outcome"],
)
JOB_RUNS = Counter("xietong_job_runs_total", "Scheduled and queued job runs", ["job", "outcome"])
JOB_SECONDS = Histogram(
    "xietong_job_duration_seconds",
    "Time a job run took",
    ["job"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300),
)
SQLITE_WRITER_WAIT = Histogram(
    "xietong_sqlite_writer_wait_seconds",
    "Time a SQLite write waited for its turn: behind this process's writers (process) "
    "or behind other processes' (file)",
    ["stage"],
    buckets=(0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5),
)
BACKUPS = Counter("xietong_backups_total", "Backups made", ["outcome"])
LAST_BACKUP = Gauge(
    "xietong_last_backup_timestamp_seconds",
    "When the last backup finished (Unix time)",
    multiprocess_mode="max",
)


def prepare_shared_folder(data_dir: Path) -> Path:
    """The folder this machine's processes share their counters through, emptied: counters
    of processes that ran before would be added in again. Call before starting them."""
    configured = os.environ.get(SHARED_FOLDER)
    folder = Path(configured) if configured else data_dir / "metrics"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    os.environ[SHARED_FOLDER] = str(folder)
    return folder


def exposition(*collectors: Collector) -> bytes:
    """Every counter of this machine's processes, and the collectors given (figures read at
    scrape time, such as the outbox backlog)."""
    registry = CollectorRegistry()
    if os.environ.get(SHARED_FOLDER):
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        from prometheus_client import REGISTRY

        registry = REGISTRY
    text = generate_latest(registry)
    extra = CollectorRegistry()
    for collector in collectors:
        extra.register(collector)
    return text + generate_latest(extra)


class Figures(Collector):
    """Gauges read once per scrape, from the database (the same for every process)."""

    def __init__(self, gauges: dict[str, tuple[str, dict[tuple[str, ...], float], list[str]]]):
        self.gauges = gauges

    def collect(self) -> list[GaugeMetricFamily]:
        families = []
        for name, (documentation, values, labels) in self.gauges.items():
            family = GaugeMetricFamily(name, documentation, labels=labels)
            for label_values, value in values.items():
                family.add_metric(list(label_values), value)
            families.append(family)
        return families
