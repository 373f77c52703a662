"""A real S3 API for the test session: moto's standalone server on a free loopback port.

``s3_bucket`` starts ``python -m moto.server -H 127.0.0.1 -p PORT`` once per session, points
the standard AWS variables at it (``AWS_ENDPOINT_URL``, dummy ``AWS_ACCESS_KEY_ID`` /
``AWS_SECRET_ACCESS_KEY``, ``AWS_DEFAULT_REGION``), creates a bucket and yields its URL
(``s3://vigil-test``). Servers started as subprocesses inherit the variables. The server is
stopped at the end of the session, also when tests fail, and the variables are put back.

``tests/conftest.py`` imports its fixtures, so every test module shares one server: ask for
``s3_bucket`` or ``s3_endpoint``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest

BUCKET = "vigil-test"
_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(proc: subprocess.Popen[bytes], url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"moto server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/moto-api/", timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"moto server not ready at {url} after {timeout:.0f}s")


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """The URL of a moto standalone server on loopback, set as ``AWS_ENDPOINT_URL``."""
    pytest.importorskip("s3fs", reason="the s3 extra (s3fs) is not installed")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    saved = {k: os.environ.get(k) for k in (*_ENV, "AWS_ENDPOINT_URL")}
    try:
        _wait_ready(proc, url)
        os.environ.update(_ENV)
        os.environ["AWS_ENDPOINT_URL"] = url
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="session")
def s3_bucket(s3_endpoint: str) -> str:
    """``s3://vigil-test``: an empty bucket on the session's moto server."""
    import s3fs

    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    fs.mkdir(BUCKET)
    return f"s3://{BUCKET}"
