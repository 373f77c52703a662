"""``vigil run``: run any training program as a training job.

The child's stdout and stderr pass through to ours unchanged, line by line as they come
(bytes, never re-encoded), into the job's log (``{data_dir}/jobs/{name}/{run}/output.log``,
or uploaded to the server at the end) and through the metric definitions
(:class:`vigil.jobs.LogMetricParser`). A sampler reads the process tree (psutil, children
included) for CPU seconds and the peak of the tree's resident memory; the kernel's accounting
of waited-for children (``RUSAGE_CHILDREN``) covers the CPU of processes that ended between
two samples. Exit status
0 is ``Completed``; another is ``Failed`` with ``exit status N`` and the last stderr lines;
a child ended by SIGINT or SIGTERM is ``Stopped``, by another signal ``Failed``.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import psutil

from vigil.app.training_sdk import Backend, TrainingJobRun
from vigil.jobs import DefinitionCounts, LogMetricParser, MetricDefinition

__all__ = ["RunResult", "TreeSampler", "run_job"]

STDERR_TAIL = 5
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@dataclass
class RunResult:
    """What ``vigil run`` reports: the child's exit code, the job's end and the counts."""

    exit_code: int
    status: str
    run_id: str
    counts: list[DefinitionCounts]
    document: dict[str, Any] = field(default_factory=dict)


class TreeSampler:
    """Samples a process and its descendants: CPU seconds (the most each process reached,
    summed over every process seen) and the peak of the tree's summed resident memory."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.pid, self.interval = pid, interval
        self.cpu: dict[int, float] = {}
        self.peak_rss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def sample(self) -> None:
        """One reading of the tree."""
        try:
            root = psutil.Process(self.pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            return
        rss = 0
        for proc in procs:
            try:
                with proc.oneshot():
                    times = proc.cpu_times()
                    rss += proc.memory_info().rss
            except psutil.Error:
                continue
            key = proc.pid
            self.cpu[key] = max(self.cpu.get(key, 0.0), times.user + times.system)
        self.peak_rss = max(self.peak_rss, rss)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def cpu_seconds(self) -> float:
        return sum(self.cpu.values())


def _pump(
    stream: IO[bytes],
    out: IO[bytes],
    log: IO[bytes],
    lock: threading.Lock,
    parser: LogMetricParser,
    job: TrainingJobRun,
    tail: deque[str] | None,
) -> None:
    for raw in iter(stream.readline, b""):
        out.write(raw)
        out.flush()
        with lock:
            log.write(raw)
            text = raw.decode("utf-8", errors="replace")
            found = parser.parse_line(text)
        if tail is not None:
            tail.append(text.rstrip("\r\n"))
        for name, value in found:
            job.log_metric(name, value)
    stream.close()


def _outcome(code: int, tail: Sequence[str]) -> tuple[str, str | None, int]:
    """(status, failure reason, our exit code) for the child's return code."""
    if code == 0:
        return "Completed", None, 0
    if code < 0:
        sig = signal.Signals(-code)
        status = "Stopped" if sig in STOP_SIGNALS else "Failed"
        return status, f"killed by signal {sig.name}", 128 - code
    reason = f"exit status {code}"
    if tail:
        reason += ": " + " | ".join(tail)
    return "Failed", reason[:1024], code


def run_job(
    command: Sequence[str],
    *,
    name: str,
    definitions: Sequence[MetricDefinition],
    backend: Backend,
    hyperparameters: dict[str, str] | None = None,
    sample_interval: float = 0.2,
    flush_every: int = 100,
    flush_seconds: float = 2.0,
    stdout: IO[bytes] | None = None,
    stderr: IO[bytes] | None = None,
) -> RunResult:
    """Run ``command`` as a run of job ``name`` and end the run as its exit says."""
    parser = LogMetricParser(definitions)  # a bad definition fails before anything starts
    out = stdout or sys.stdout.buffer
    err = stderr or sys.stderr.buffer
    job = TrainingJobRun(
        name,
        hyperparameters=hyperparameters,
        backend=backend,
        source="run",
        flush_every=flush_every,
        flush_seconds=flush_seconds,
    )
    final = backend.log_file(job.run_id, name)
    if final is not None:
        final.parent.mkdir(parents=True, exist_ok=True)
        log_path = final
    else:
        fd, temp = tempfile.mkstemp(prefix="vigil-run-", suffix=".log")
        os.close(fd)
        log_path = Path(temp)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    tail: deque[str] = deque(maxlen=STDERR_TAIL)
    lock = threading.Lock()
    interrupted = False
    with open(log_path, "wb") as log:
        try:
            child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except OSError as exc:
            job.end("Failed", failure_reason=f"cannot start {command[0]!r}: {exc.strerror}")
            backend.close()
            raise
        sampler = TreeSampler(child.pid, sample_interval)
        sampler.start()
        assert child.stdout is not None and child.stderr is not None
        pumps = [
            threading.Thread(
                target=_pump, args=(child.stdout, out, log, lock, parser, job, None), daemon=True
            ),
            threading.Thread(
                target=_pump, args=(child.stderr, err, log, lock, parser, job, tail), daemon=True
            ),
        ]
        for pump in pumps:
            pump.start()
        while True:
            try:
                code = child.wait()
                break
            except KeyboardInterrupt:  # the child has its own SIGINT; wait for it to end
                interrupted = True
                child.send_signal(signal.SIGINT)
        for pump in pumps:
            pump.join()
        sampler.stop()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    kernel_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # the sampled peak only: a child's ru_maxrss counts the image it was forked from
    peak = sampler.peak_rss
    status, reason, exit_code = _outcome(code, list(tail))
    if interrupted and status == "Failed":
        status = "Stopped"
    try:
        backend.upload_log(job.run_id, log_path)
        document = job.end(
            status,
            failure_reason=reason,
            exit_code=code,
            cpu_seconds=round(max(kernel_cpu, sampler.cpu_seconds), 3),
            peak_rss_bytes=int(peak),
        )
    finally:
        backend.close()
        if final is None:
            log_path.unlink(missing_ok=True)
    return RunResult(exit_code, job.status, job.run_id, parser.counts(), document)
