"""A real child process captures in a tight loop; we kill -9 it, SIGTERM it, or let it exit.

The child numbers its records (``inferenceId`` = 0, 1, 2, ...) and keeps the number of
``capture()`` calls that returned True in an 8-byte memory-mapped counter file, which survives
its death, updated right after each call (so it may lag the files by the one record in flight).
Every 50 ms it also appends ``time count`` to a progress file: the parent reads how many records
had been captured by a given time.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from vigil.capture import recover
from vigil.formats import CaptureRecord

ROOT = Path(__file__).resolve().parents[1]
FLUSH = 0.2  # the child's flush interval (seconds)
SLACK = 0.3  # scheduling and fsync time allowed on top of the flush interval (seconds)

CHILD = textwrap.dedent("""
    import mmap, os, signal, sys, time
    from vigil.capture import CaptureWriter

    dest, mode, counter_path, progress_path, limit = sys.argv[1:6]
    limit = int(limit)
    stop = []
    if mode == "sigterm-chained":  # a server's own graceful-shutdown handler, installed first
        signal.signal(signal.SIGTERM, lambda signum, frame: stop.append(signum))
    fd = os.open(counter_path, os.O_RDWR | os.O_CREAT)
    os.ftruncate(fd, 8)
    counter = mmap.mmap(fd, 8)
    progress = open(progress_path, "a", buffering=1)
    writer = CaptureWriter("load", destination=dest, flush_interval=%(flush)r,
                           install_signal_handlers=mode.startswith("sigterm"))
    row = ",".join(["12.5"] * 20)
    ok = 0
    next_report = time.monotonic()
    while not stop and ok < limit:
        if writer.capture(row, "0.5", inference_id=str(ok)):
            ok += 1
            counter[0:8] = ok.to_bytes(8, "little")
        now = time.monotonic()
        if now >= next_report:
            progress.write(f"{time.time():.6f} {ok}\\n")
            next_report = now + 0.05
    progress.write(f"{time.time():.6f} {ok} done\\n")
    # no writer.close(): the atexit hook must write the rest
""") % {"flush": FLUSH}


def start_child(tmp_path: Path, mode: str, limit: int = 10**12) -> tuple[subprocess.Popen, dict]:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    paths = {"dest": tmp_path / "capture", "counter": tmp_path / "counter",
             "progress": tmp_path / "progress"}
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    proc = subprocess.Popen(
        [sys.executable, str(script), str(paths["dest"]), mode, str(paths["counter"]),
         str(paths["progress"]), str(limit)], env=env, cwd=tmp_path)
    return proc, paths


def progress(paths: dict) -> list[tuple[float, int]]:
    """(time, records captured by then) from the child's complete progress lines."""
    if not paths["progress"].exists():
        return []
    lines = paths["progress"].read_text().split("\n")[:-1]  # the last one may be partial
    return [(float(line.split()[0]), int(line.split()[1])) for line in lines]


def run_for(proc: subprocess.Popen, paths: dict, seconds: float) -> None:
    """Wait until the child has been capturing for ``seconds``."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the child died early"
        seen = progress(paths)
        if seen and seen[-1][1] > 0 and seen[-1][0] - seen[0][0] >= seconds:
            return
        time.sleep(0.02)
    raise AssertionError("the child did not capture")


def counter(paths: dict) -> int:
    return int.from_bytes(paths["counter"].read_bytes()[:8], "little")


def read_all(dest: Path) -> list[int]:
    """Parse every published file line by line; the records' numbers."""
    ids = []
    for path in sorted(dest.rglob("*.jsonl")):
        data = path.read_bytes()
        assert data.endswith(b"\n"), f"{path}: last line is not whole"
        for i, line in enumerate(data.decode().splitlines()):
            rec = CaptureRecord.loads(line, source=f"{path}:{i + 1}")
            assert rec.capture_data.endpoint_input.data == ",".join(["12.5"] * 20)
            ids.append(int(rec.event_metadata.inference_id))
    return ids


def assert_prefix(ids: list[int]) -> int:
    """The records are exactly 0..n-1, each once (no gap, no duplicate); returns n."""
    ids.sort()
    assert ids == list(range(len(ids))), "records missing in the middle or repeated"
    return len(ids)


def test_kill_9_under_load_loses_at_most_the_flush_interval(tmp_path: Path) -> None:
    proc, paths = start_child(tmp_path, "kill")
    try:
        run_for(proc, paths, 1.0)
        killed_at = time.time()
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(10) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
    dest = paths["dest"]
    read_all(dest)  # what readers see right after the crash: whole files only
    recover(dest)  # what the next writer does at start
    assert not list(dest.rglob("*.part"))
    written = assert_prefix(read_all(dest))
    captured = counter(paths)  # capture() calls that returned True (possibly one short)
    timeline = progress(paths)
    # every record captured more than FLUSH + SLACK before the kill is in a file
    safe = max((n for t, n in timeline if t <= killed_at - FLUSH - SLACK), default=0)
    recent = captured - safe
    assert safe > 0, f"the child captured too little to test: {timeline[:5]}"
    assert safe <= written <= captured + 1, (
        f"written {written}, captured {captured}, safe {safe}: lost {captured - written} "
        f"records, more than the {recent} captured in the last {FLUSH + SLACK} s")


@pytest.mark.parametrize("mode", ["sigterm", "sigterm-chained"])
def test_sigterm_loses_nothing(tmp_path: Path, mode: str) -> None:
    proc, paths = start_child(tmp_path, mode)
    try:
        run_for(proc, paths, 0.5)
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(15)
    finally:
        if proc.poll() is None:
            proc.kill()
    # default action: the handler writes everything, then the process dies of SIGTERM;
    # chained: the server's own handler stops the loop and the process exits normally
    assert code == (-signal.SIGTERM if mode == "sigterm" else 0)
    dest = paths["dest"]
    assert not list(dest.rglob("*.part")), "every file is published before the exit"
    written = assert_prefix(read_all(dest))
    captured = counter(paths)
    assert captured > 0
    assert written in (captured, captured + 1)  # +1: the call the signal interrupted


def test_exit_without_close_loses_nothing(tmp_path: Path) -> None:
    proc, paths = start_child(tmp_path, "exit", limit=50_000)
    try:
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    dest = paths["dest"]
    assert not list(dest.rglob("*.part"))
    assert counter(paths) == 50_000
    assert assert_prefix(read_all(dest)) == 50_000
