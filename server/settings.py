"""Every setting, read from the environment, with defaults that run on a laptop."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    redis_url: str | None
    smtp_url: str | None
    secret_key: str
    dev: bool
    base_url: str
    mail_from: str
    default_language: str = "zh-CN"
    default_time_zone: str = "Asia/Shanghai"
    session_days: int = 14
    login_max_failures: int = 5
    # Failed logins from one address, whatever the login names, before it backs off too.
    login_max_failures_per_address: int = 30
    login_lock_minutes: int = 15
    max_field_chars: int = 20_000
    escalation_hour: int = 9
    digest_hour: int = 8
    webhook_timeout_seconds: float = 10.0
    # Largest request body any route reads; larger ones are answered 413 before the rest is read.
    max_body_bytes: int = 1024 * 1024
    # An attachment's upload may be this large (its request a little larger, for the form).
    attachment_max_bytes: int = 20 * 1024 * 1024
    # Empty: attachments live in the data folder; "s3://bucket/prefix" for an object store
    # (several servers), at s3_endpoint_url when it is not AWS itself.
    attachment_store: str = ""
    s3_endpoint_url: str | None = None
    # A GraphQL request still running after this long is cancelled, freeing the process.
    request_timeout_seconds: float = 15.0
    # Introspection for members' tokens; production may turn it off.
    graphql_introspection: bool = True
    # Bearer token a Prometheus scraper sends for /metrics; empty: no /metrics at all.
    metrics_token: str = ""
    # Nightly backups (02:30, the server's time) into this folder, keeping the newest N;
    # empty: none (`xietong backup FILE` still works by hand).
    backup_dir: Path | None = None
    backup_keep: int = 7

    @property
    def redis_socket(self) -> Path:
        return self.data_dir / "redis.sock"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _secret_key(data_dir: Path) -> str:
    """A stable key per data folder, so sessions survive restarts without configuration."""
    configured = os.environ.get("XIETONG_SECRET_KEY")
    if configured:
        return configured
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def load_settings() -> Settings:
    data_dir = Path(os.environ.get("XIETONG_DATA_DIR", "data")).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    database_url = os.environ.get("DATABASE_URL") or f"sqlite://{data_dir / 'xietong.sqlite3'}"
    backup_dir = os.environ.get("XIETONG_BACKUP_DIR", "").strip()
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        redis_url=os.environ.get("REDIS_URL") or None,
        smtp_url=os.environ.get("SMTP_URL") or None,
        secret_key=_secret_key(data_dir),
        dev=_flag(os.environ.get("XIETONG_DEV")),
        base_url=os.environ.get("XIETONG_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
        mail_from=os.environ.get("XIETONG_MAIL_FROM", "xietong@localhost"),
        escalation_hour=int(os.environ.get("XIETONG_ESCALATION_HOUR", "9")),
        digest_hour=int(os.environ.get("XIETONG_DIGEST_HOUR", "8")),
        webhook_timeout_seconds=float(os.environ.get("XIETONG_WEBHOOK_TIMEOUT", "10")),
        max_body_bytes=int(os.environ.get("XIETONG_MAX_BODY_BYTES", str(1024 * 1024))),
        attachment_max_bytes=int(
            float(os.environ.get("XIETONG_ATTACHMENT_MAX_MB", "20")) * 1024 * 1024
        ),
        attachment_store=os.environ.get("XIETONG_ATTACHMENT_STORE", "").strip(),
        s3_endpoint_url=os.environ.get("XIETONG_S3_ENDPOINT") or None,
        request_timeout_seconds=float(os.environ.get("XIETONG_REQUEST_TIMEOUT", "15")),
        graphql_introspection=_flag(os.environ.get("XIETONG_GRAPHQL_INTROSPECTION", "on")),
        metrics_token=os.environ.get("XIETONG_METRICS_TOKEN", "").strip(),
        backup_dir=Path(backup_dir).resolve() if backup_dir else None,
        backup_keep=int(os.environ.get("XIETONG_BACKUP_KEEP", "7")),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()


def reset_settings() -> None:
    """Forget the cached settings (tests and the CLI change the environment)."""
    get_settings.cache_clear()
