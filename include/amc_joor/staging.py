"""Run-scoped staged files: ``<root>/<dag_id>/<run_id>/<step>/<name>``.

Why: XCom carries only paths and counts; rows live in files. Paths are deterministic per run
and step, so a retried or cleared task overwrites its own files instead of adding duplicates.
The root is ``AMC_JOOR_STAGING_ROOT`` — ``file://…/var/staging`` locally, ``s3://bucket/prefix``
(or any fsspec/ObjectStoragePath scheme with its provider installed) in production.
"""

from __future__ import annotations

import io
import json
import os
import re
from typing import Any

_SAFE = re.compile(r"[^A-Za-z0-9._=-]+")


def staging_root() -> str:
    root = os.environ.get("AMC_JOOR_STAGING_ROOT")
    if root:
        return root.rstrip("/")
    base = os.environ.get("AMC_JOOR_ROOT", os.getcwd())
    return "file://" + os.path.join(base, "var", "staging")


def safe_part(value: str) -> str:
    """A path segment from a run id or name (run ids carry ':' and '+')."""
    return _SAFE.sub("_", value).strip("_") or "_"


def stage_path(dag_id: str, run_id: str, step: str, name: str) -> str:
    """The URL of one staged file; deterministic so a retry overwrites."""
    return "/".join([staging_root(), safe_part(dag_id), safe_part(run_id), safe_part(step), name])


def _path(url: str):
    from airflow.sdk import ObjectStoragePath

    return ObjectStoragePath(url)


def write_bytes(url: str, data: bytes) -> str:
    path = _path(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        fh.write(data)
    return url


def read_bytes(url: str) -> bytes:
    with _path(url).open("rb") as fh:
        return fh.read()


def write_json(url: str, obj: Any) -> str:
    return write_bytes(url, json.dumps(obj, default=str, sort_keys=True).encode())


def read_json(url: str) -> Any:
    return json.loads(read_bytes(url))


def write_parquet(url: str, frame) -> str:
    """Write a pandas DataFrame as Parquet (pyarrow)."""
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    return write_bytes(url, buf.getvalue())


def read_parquet(url: str):
    import pandas as pd

    return pd.read_parquet(io.BytesIO(read_bytes(url)))


def write_csv(url: str, frame) -> str:
    return write_bytes(url, frame.to_csv(index=False).encode())


def local_path(url: str) -> str | None:
    """The filesystem path of a ``file://`` URL (for humans reading a report), else None."""
    return url[len("file://") :] if url.startswith("file://") else None
