"""CPU cost of ``vigil agent``, beside bare loops of the same readings (psutil alone, and a
node_exporter-like loop reading /proc by hand).

Vigil: the real ``vigil agent`` process (host figures, ``/`` disk, network, one named process,
GPU probe) pushing to a loopback receiver that answers 200 (stdlib ``http.server`` in a
thread of this script). Its CPU time is read from ``/proc/PID/stat`` (user + system) over
``--cycles`` collections after the first two (start-up excluded); the collections are short
(``--interval``, 0.05 s by default) so that enough clock ticks pass to measure, and the cost
per collection is scaled to a 10 s interval: % of one core = CPU per collection / 10 s.
``--real`` instead runs the agent at 10 s for ``--real-seconds`` and divides its CPU time by
the wall time (coarse: a few clock ticks).

Peers, in this process (``time.process_time`` over ``--peer-cycles`` loops): psutil's bare
calls for the same figures (``cpu_percent``, ``virtual_memory``, ``disk_usage``,
``net_io_counters(pernic=True)``, a ``Process``'s ``cpu_percent`` and ``memory_info``); a
node_exporter-like loop (read ``/proc/stat``, ``/proc/meminfo``, ``/proc/net/dev``,
``statvfs``, ``/proc/PID/stat``, format Prometheus text); and Vigil's ``Collector.collect()`` +
``encode`` without HTTP, for the breakdown.

Reproduce: ``.venv/bin/python bench/bench_agent.py`` (writes section "agent" of
bench/RESULTS.md; ``--cycles N``, ``--interval S``, ``--peer-cycles N``, ``--real``,
``--no-write``).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

from results import write_section  # noqa: E402
from vigil.agent.collect import Collector  # noqa: E402
from vigil.agent.push import encode  # noqa: E402
from vigil.resources.selectors import ProcessSelector  # noqa: E402

COMMAND = ".venv/bin/python bench/bench_agent.py"
HZ = os.sysconf("SC_CLK_TCK")
TARGET_INTERVAL = 10.0


class Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    host_bodies = 0
    bodies = 0

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.bodies += 1
        if b'"vigil/Host"' in body[:40]:
            Receiver.host_bodies += 1
        self.send_response(200)
        self.send_header("Content-Length", "13")
        self.end_headers()
        self.wfile.write(b'{"stored": 1}')

    def log_message(self, *args: object) -> None:
        pass


def cpu_seconds(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / HZ


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def wait_for(condition, seconds: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("the agent did not collect in time")
        time.sleep(0.01)


def run_agent(
    url: str, interval: float, cycles: int | None, seconds: float | None
) -> dict[str, float]:
    Receiver.host_bodies = Receiver.bodies = 0  # this run's collections only
    spool = Path(os.environ.get("TMPDIR", "/tmp")) / f"vigil-bench-agent-{os.getpid()}"
    env = {**os.environ, "PYTHONPATH": str(HERE.parent / "src"), "VIGIL_TOKEN": "bench"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "vigil.cli", "agent", "--server", url, "--interval", str(interval),
         "--spool", str(spool), "--process", f"bench=pid:{os.getpid()}", "--mount", "/"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for(lambda: Receiver.host_bodies >= 2, 60)
        c0, t0, w0 = Receiver.host_bodies, cpu_seconds(proc.pid), time.monotonic()
        if cycles is not None:
            wait_for(lambda: Receiver.host_bodies >= c0 + cycles, 600)
        else:
            time.sleep(seconds or 60)
        c1, t1, w1 = Receiver.host_bodies, cpu_seconds(proc.pid), time.monotonic()
        memory = rss(proc.pid)
    finally:
        proc.terminate()
        proc.wait(30)
    return {"cycles": c1 - c0, "cpu": t1 - t0, "wall": w1 - w0, "rss": memory}


def psutil_loop(n: int) -> float:
    me = psutil.Process(os.getpid())
    psutil.cpu_percent(None)
    me.cpu_percent(None)
    start = time.process_time()
    for _ in range(n):
        psutil.cpu_percent(None)
        psutil.virtual_memory()
        psutil.disk_usage("/")
        psutil.net_io_counters(pernic=True)
        with me.oneshot():
            me.cpu_percent(None)
            me.memory_info()
    return (time.process_time() - start) / n


def node_exporter_like_loop(n: int) -> float:
    pid = os.getpid()
    start = time.process_time()
    for _ in range(n):
        lines = []
        for line in Path("/proc/stat").read_text().splitlines():
            if line.startswith("cpu"):
                words = line.split()
                for mode, value in zip(("user", "nice", "system", "idle", "iowait"), words[1:6]):
                    lines.append(f'node_cpu_seconds_total{{cpu="{words[0]}",mode="{mode}"}} '
                                 f"{int(value) / HZ}")  # fmt: skip
        for line in Path("/proc/meminfo").read_text().splitlines():
            key, value = line.split(":", 1)
            lines.append(f"node_memory_{key}_bytes {int(value.split()[0]) * 1024}")
        for line in Path("/proc/net/dev").read_text().splitlines()[2:]:
            name, data = line.split(":", 1)
            words = data.split()
            lines.append(f'node_network_receive_bytes_total{{device="{name.strip()}"}} {words[0]}')
            lines.append(f'node_network_transmit_bytes_total{{device="{name.strip()}"}} {words[8]}')
        st = os.statvfs("/")
        lines.append(f'node_filesystem_avail_bytes{{mountpoint="/"}} {st.f_bavail * st.f_frsize}')
        stat = Path(f"/proc/{pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()
        lines.append(f"process_cpu_seconds_total {(int(fields[11]) + int(fields[12])) / HZ}")
        "\n".join(lines).encode()
    return (time.process_time() - start) / n


def vigil_collect_loop(n: int) -> float:
    collector = Collector(processes=[ProcessSelector.parse(f"bench=pid:{os.getpid()}")], gpu=False)
    start = time.process_time()
    for _ in range(n):
        list(encode(collector.collect()))
    return (time.process_time() - start) / n


def share(per_cycle: float) -> str:
    return f"{100 * per_cycle / TARGET_INTERVAL:.4f}%"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=200)
    parser.add_argument("--interval", type=float, default=0.05)
    parser.add_argument("--peer-cycles", type=int, default=500)
    parser.add_argument("--real", action="store_true", help="also run at 10 s for --real-seconds")
    parser.add_argument("--real-seconds", type=float, default=60.0)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"

    agent = run_agent(url, args.interval, args.cycles, None)
    per_cycle = agent["cpu"] / agent["cycles"]
    n = args.peer_cycles
    rows = [
        ("Vigil: `vigil agent` process (collect + 2 POSTs per collection)", per_cycle),
        ("Vigil: `Collector.collect()` + `encode`, in-process, no HTTP", vigil_collect_loop(n)),
        ("peer: psutil's bare calls for the same figures", psutil_loop(n)),
        ("peer: node_exporter-like /proc loop (Prometheus text)", node_exporter_like_loop(n)),
    ]
    lines = [
        "## Resource agent: CPU cost (`vigil agent`, issue 11)",
        "",
        f"Reproduce: `{COMMAND}` (`--cycles {args.cycles} --interval {args.interval} "
        f"--peer-cycles {args.peer_cycles}`{' --real' if args.real else ''}).",
        "",
        "| run | CPU ms per collection | % of one core at a 10 s interval |",
        "|---|---:|---:|",
    ]
    lines += [f"| {name} | {1e3 * cost:.2f} | {share(cost)} |" for name, cost in rows]
    lines += [
        "",
        f"The agent's figure is its process's user + system time (`/proc/PID/stat`) over "
        f"{agent['cycles']:.0f} collections at {args.interval} s after start-up "
        f"({agent['cpu']:.2f} s CPU in {agent['wall']:.1f} s), divided per collection and "
        f"scaled to one collection per 10 s; between collections the agent sleeps on an event "
        f"(no polling). Its resident memory: {agent['rss'] / 2**20:.0f} MiB. "
        "Target: under 1% of one core at 10 s.",
    ]
    if args.real:
        real = run_agent(url, TARGET_INTERVAL, None, args.real_seconds)
        lines += [
            "",
            f"At a real 10 s interval for {real['wall']:.0f} s: {real['cpu']:.2f} s CPU "
            f"({100 * real['cpu'] / real['wall']:.3f}% of one core; clock ticks are "
            f"{1e3 / HZ:.0f} ms, so this is coarse).",
        ]
    lines += [
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, psutil {psutil.__version__}, load average {load:.1f} "
        "at start.",
    ]
    text = "\n".join(lines)
    print(text)
    server.shutdown()
    if not args.no_write:
        write_section("agent", text)


if __name__ == "__main__":
    main()
