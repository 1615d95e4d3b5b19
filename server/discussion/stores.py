"""Where attachment bytes are kept, by content hash (the same photo uploaded twice is kept
once): the data folder by default, or an S3-compatible object store shared by several
servers (XIETONG_ATTACHMENT_STORE=s3://bucket/prefix). Blocking calls; callers run them in a
thread."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

from server.settings import Settings


def key_of(sha256: str, *, preview: bool = False) -> str:
    name = f"{sha256}.preview.jpg" if preview else sha256
    return f"{sha256[:2]}/{name}"


class Store(Protocol):
    def put(self, sha256: str, data: bytes, *, preview: bool = False) -> None: ...

    def get(self, sha256: str, *, preview: bool = False) -> bytes | None: ...

    def local_path(self, sha256: str, *, preview: bool = False) -> Path | None: ...


@dataclass(frozen=True)
class FolderStore:
    root: Path

    def path(self, sha256: str, *, preview: bool = False) -> Path:
        return self.root / key_of(sha256, preview=preview)

    def put(self, sha256: str, data: bytes, *, preview: bool = False) -> None:
        target = self.path(sha256, preview=preview)
        if target.exists():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def get(self, sha256: str, *, preview: bool = False) -> bytes | None:
        target = self.path(sha256, preview=preview)
        return target.read_bytes() if target.exists() else None

    def local_path(self, sha256: str, *, preview: bool = False) -> Path | None:
        target = self.path(sha256, preview=preview)
        return target if target.exists() else None


@dataclass(frozen=True)
class ObjectStore:
    """An S3-compatible bucket; credentials come from the usual AWS_* environment."""

    bucket: str
    prefix: str
    client: Any

    def _key(self, sha256: str, *, preview: bool) -> str:
        return f"{self.prefix}{key_of(sha256, preview=preview)}"

    def put(self, sha256: str, data: bytes, *, preview: bool = False) -> None:
        content_type = "image/jpeg" if preview else "application/octet-stream"
        self.client.put_object(
            Bucket=self.bucket,
            Key=self._key(sha256, preview=preview),
            Body=data,
            ContentType=content_type,
        )

    def get(self, sha256: str, *, preview: bool = False) -> bytes | None:
        try:
            answer = self.client.get_object(
                Bucket=self.bucket, Key=self._key(sha256, preview=preview)
            )
        except self.client.exceptions.NoSuchKey:
            return None
        body: bytes = answer["Body"].read()
        return body

    def local_path(self, sha256: str, *, preview: bool = False) -> Path | None:
        return None


def store_for(settings: Settings) -> Store:
    return _store(settings.attachment_store, settings.s3_endpoint_url, settings.data_dir)


@lru_cache(maxsize=4)
def _store(address: str, endpoint: str | None, data_dir: Path) -> Store:
    if not address:
        return FolderStore(data_dir / "attachments")
    parsed = urlparse(address)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ValueError("XIETONG_ATTACHMENT_STORE must look like s3://bucket/prefix")
    import boto3

    prefix = parsed.path.strip("/")
    client = boto3.client("s3", endpoint_url=endpoint or None)
    return ObjectStore(parsed.netloc, f"{prefix}/" if prefix else "", client)
