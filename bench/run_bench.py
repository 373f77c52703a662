"""Time `vigil baseline` / `vigil analyze` against whylogs, Evidently and DuckDB; write RESULTS.md.

    .venv/bin/python bench/run_bench.py [--rows N] [--repeat R] [--no-slow-peers]

Every task runs in a fresh process; its wall time is measured here (interpreter start-up
included) and its peak memory is the child's ru_maxrss as returned by wait4(2). Time is the
best of R runs (Evidently runs once: it is slow), peak memory the highest over the runs.
The peers run in bench/.peers/venv (bench/setup_peers.sh). The tasks compared with DuckDB
(vigil baseline, vigil analyze, DuckDB's stats scan and the floor) run in rounds, one run of
each per round, so that a change in the machine's load falls on all of them alike. The floor
is a fresh interpreter importing what `vigil analyze` imports and reading the window with
pyarrow (text columns as dictionaries, as Vigil reads them), beside the plain read and
`import vigil.cli`. ``--no-slow-peers`` leaves whylogs and Evidently out (a quick look while
iterating); bench/RESULTS.md is written only for a full-size run (1,000,000 rows) of every task.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from make_data import DATA_DIR, DEFAULT_ROWS, ROW_GROUP_ROWS, ensure
from results import write_section

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PEERS_PYTHON = BENCH / ".peers" / "venv" / "bin" / "python"
RESULTS = BENCH / "RESULTS.md"
QUIET = {"WHYLOGS_NO_ANALYTICS": "True", "DO_NOT_TRACK": "1", "ITERATIVE_DO_NOT_TRACK": "1"}


@dataclass
class Task:
    name: str
    argv: list[str]
    repeat: int
    ok_codes: tuple[int, ...] = (0,)
    outputs: tuple[Path, ...] = ()  # files the run must leave behind
    fresh: Path | None = None  # output directory removed before each run
    unavailable: str | None = None


@dataclass
class Result:
    task: Task
    seconds: list[float] = field(default_factory=list)
    peak_mib: float = 0.0
    codes: set[int] = field(default_factory=set)  # exit codes seen
    report: dict[str, object] | None = None  # a peer's own JSON line
    error: str | None = None

    @property
    def best(self) -> float:
        return min(self.seconds)


def measure(argv: list[str], env: dict[str, str]) -> tuple[int, float, float, str, str]:
    """Run argv; return exit code, wall seconds, peak RSS (MiB), stdout, stderr."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text = [f.read().decode(errors="replace") for f in (out, err)]
    return proc.returncode, seconds, usage.ru_maxrss / 1024, text[0], text[1]


def run_task(task: Task, env: dict[str, str]) -> Result:
    result = Result(task, error=task.unavailable)
    for i in range(task.repeat if result.error is None else 0):
        if task.fresh is not None:
            shutil.rmtree(task.fresh, ignore_errors=True)
        code, seconds, peak, out, err = measure(task.argv, env)
        missing = [p.name for p in task.outputs if not p.exists()]
        if code not in task.ok_codes or missing:
            tail = " | ".join(err.strip().splitlines()[-3:])
            result.error = (
                f"exit {code}" + (f", missing {missing}" if missing else "") + f": {tail}"
            )
            break
        if out.strip().startswith("{") and seconds < min(result.seconds, default=seconds + 1):
            result.report = json.loads(out.strip().splitlines()[-1])  # the best run's
        result.seconds.append(seconds)
        result.codes.add(code)
        result.peak_mib = max(result.peak_mib, peak)
        print(
            f"  {task.name} run {i + 1}/{task.repeat}: {seconds:.2f} s, {peak:.0f} MiB", flush=True
        )
    return result


def run_rounds(tasks: list[Task], env: dict[str, str]) -> list[Result]:
    """Run the tasks in rounds (one run of each per round, in order), ``repeat`` rounds."""
    results = [Result(t, error=t.unavailable) for t in tasks]
    rounds = max((t.repeat for t in tasks), default=0)
    for i in range(rounds):
        for result in results:
            task = result.task
            if result.error is not None or i >= task.repeat:
                continue
            one = run_task(Task(**{**task.__dict__, "repeat": 1}), env)
            if one.error is not None:
                result.error = one.error
                continue
            if one.report is not None and one.best < min(result.seconds, default=one.best + 1):
                result.report = one.report
            result.seconds += one.seconds
            result.codes |= one.codes
            result.peak_mib = max(result.peak_mib, one.peak_mib)
            print(f"  {task.name} round {i + 1}/{task.repeat}: {one.best:.2f} s", flush=True)
    return results


def vigil_problem(vigil: Path) -> str | None:
    if not vigil.exists():
        return f"vigil CLI not available ({vigil} missing)"
    for sub in ("baseline", "analyze"):
        done = subprocess.run([str(vigil), sub, "--help"], cwd=ROOT, capture_output=True, text=True)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["?"])[-1]
            return f"vigil CLI not available (`vigil {sub} --help`: exit {done.returncode}: {last})"
    return None


TEXT_COLUMNS = [f"c{i}" for i in range(5)]  # make_data's string columns


def floor_tasks(win: str, repeat: int) -> list[Task]:
    """Fresh interpreters (Vigil's venv) reading the window with pyarrow, and importing Vigil."""
    read = f"import pyarrow.parquet as pq; pq.read_table({win!r}"
    dicts = f"{read}, read_dictionary={TEXT_COLUMNS!r})"
    py = [sys.executable, "-c"]
    return [
        Task(FLOOR, [*py, f"import vigil.cli.data; {dicts}"], repeat),
        Task("pyarrow read, dictionaries", [*py, dicts], repeat),
        Task("pyarrow read, plain strings", [*py, f"{read})"], repeat),
        Task("import vigil.cli", [*py, "import vigil.cli"], repeat),
    ]


FLOOR = "floor: vigil's imports + pyarrow read"
SLOW_PEERS = ("whylogs profile", "evidently drift")


def make_tasks(rows: int, repeat: int, tmp: Path, vigil: Path) -> list[Task]:
    data = DATA_DIR if rows == DEFAULT_ROWS else DATA_DIR / f"rows-{rows}"
    # Generate the data in a child process: a parent grown by the arrays would hand its size to
    # every child's ru_maxrss (the high-water mark survives fork + exec), inflating the peaks.
    subprocess.run(
        [sys.executable, str(BENCH / "make_data.py"), "--rows", str(rows), "--out-dir", str(data)],
        check=True,
    )
    ref, win = (str(p) for p in ensure(rows, data))
    base, an = tmp / "base", tmp / "an"
    no_vigil = vigil_problem(vigil)
    no_peers = None if PEERS_PYTHON.exists() else "peers venv missing: run bench/setup_peers.sh"
    peer = [str(PEERS_PYTHON), str(BENCH / "peers.py")]
    return [
        Task(
            "vigil baseline",
            [str(vigil), "baseline", ref, "--output", str(base)],
            repeat,
            outputs=(base / "statistics.json", base / "constraints.json"),
            fresh=base,
            unavailable=no_vigil,
        ),
        Task("whylogs profile", [*peer, "whylogs_profile", ref], repeat, unavailable=no_peers),
        Task(
            "vigil analyze",
            [str(vigil), "analyze", win, "--baseline", str(base), "--output", str(an)],
            repeat,
            ok_codes=(0, 1),  # 1 = violations found, which the shifted window should produce
            outputs=tuple(
                an / f for f in ("statistics.json", "constraint_violations.json", "report.html")
            ),
            fresh=an,
            unavailable=no_vigil,
        ),
        Task("evidently drift", [*peer, "evidently_drift", ref, win], 1, unavailable=no_peers),
        Task("duckdb stats", [*peer, "duckdb_stats", win], repeat, unavailable=no_peers),
        *floor_tasks(win, repeat),
    ]


def machine() -> list[str]:
    info = {
        k.strip(): v.strip()
        for k, _, v in (
            line.partition(":") for line in Path("/proc/cpuinfo").read_text().splitlines()
        )
    }
    mem = Path("/proc/meminfo").read_text().split()[1]  # MemTotal in kB
    return [
        f"CPU: {info.get('model name', platform.processor())}, "
        f"{len(os.sched_getaffinity(0))} cores usable",
        f"memory: {int(mem) / 2**20:.1f} GiB; OS: {platform.platform()}",
        f"date: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC",
    ]


def versions() -> str:
    try:
        ours = f"vigil {metadata.version('vigil')}, "
    except metadata.PackageNotFoundError:
        ours = ""
    code = (
        "import importlib.metadata as m, platform; print(', '.join([f'Python "
        "{platform.python_version()}'] + [p + ' ' + m.version(p) for p in ('whylogs', "
        "'evidently', 'duckdb', 'pandas', 'numpy', 'pyarrow')]))"
    )
    peers = subprocess.run([str(PEERS_PYTHON), "-c", code], capture_output=True, text=True)
    return f"{ours}Python {platform.python_version()}; peers venv: {peers.stdout.strip()}"


def report(
    results: list[Result], rows: int, repeat: int, tmp: Path, load: tuple[float, float]
) -> str:
    by = {r.task.name: r for r in results}

    def show(argv: list[str]) -> str:
        return " ".join(argv).replace(str(tmp), "$TMP").replace(f"{ROOT}/", "")

    lines = [
        "## Data quality: baseline and analyze (issue 2)",
        "",
        *[f"- {m}" for m in machine()],
        f"- load average (1 min) {load[0]:.2f} when the runs began, {load[1]:.2f} when the "
        "vigil and DuckDB rounds ended",
        f"- {versions()}",
        "",
        f"Data: {rows:,} rows x 20 columns (15 float64, 5 string of ~10 values) per file,",
        "reference and window (5 shifted columns), from `bench/make_data.py` (seeded), in row",
        f"groups of {ROW_GROUP_ROWS:,} rows (so DuckDB and Vigil can use every core).",
        "",
        "Reproduce (from the repository root):",
        "",
        "```sh",
        "make bench" + ("" if repeat == 3 else f" BENCH_REPEAT={repeat}"),
        "# which runs:",
        "bash bench/setup_peers.sh",
        f".venv/bin/python bench/run_bench.py --repeat {repeat}",
        "```",
        "",
        f"Wall time of the whole process (start-up included), best of {repeat} runs "
        "(Evidently: 1 run; vigil, DuckDB and the floor in rounds, one run of each per round); "
        "peak RSS from wait4(2), highest over the runs. "
        "`vigil analyze` exits 1 when it finds violations (the window has 5 shifted columns).",
        "",
        "| task | wall time | runs (s) | peak RSS | exit | command |",
        "|---|--:|---|--:|--:|---|",
    ]
    for r in results:
        runs = ", ".join(f"{s:.2f}" for s in r.seconds)
        lines.append(
            f"| {r.task.name} | {r.best:.2f} s | {runs} | {r.peak_mib:,.0f} MiB "
            f"| {','.join(map(str, sorted(r.codes)))} | `{show(r.task.argv)}` |"
        )
    vb, va = by["vigil baseline"], by["vigil analyze"]
    why, ev, duck = by["whylogs profile"], by["evidently drift"], by["duckdb stats"]
    floor = by[FLOOR]
    checks = [
        ("whylogs profile / vigil baseline, time", why.best / vb.best, ">= 20x"),
        ("Evidently drift / vigil analyze, time", ev.best / va.best, ">= 30x"),
        ("vigil analyze / DuckDB stats, time", va.best / duck.best, "<= 0.7x"),
        ("vigil baseline / DuckDB stats, time", vb.best / duck.best, "<= 0.7x"),
        ("whylogs / vigil baseline, peak memory", why.peak_mib / vb.peak_mib, "> 1x"),
    ]
    lines += ["", "| ratio | value | target | result |", "|---|--:|---|---|"]
    for label, value, target in checks:
        op, bound = target.split()[0], float(target.split()[1].rstrip("x"))
        ok = {">=": value >= bound, ">": value > bound, "<=": value <= bound}[op]
        lines.append(f"| {label} | {value:.2f}x | {target} | {'PASS' if ok else 'FAIL'} |")
    lines += [
        "",
        f"Floor, same run: {floor.best:.2f} s for a fresh interpreter that imports what "
        "`vigil analyze` imports (`import vigil.cli.data`) and reads the window with pyarrow, "
        f"text columns as dictionaries ({floor.best / duck.best:.2f}x DuckDB); vigil analyze "
        f"takes {va.best / floor.best:.2f}x the floor, vigil baseline {vb.best / floor.best:.2f}x. "
        f"Parts: the read alone {by['pyarrow read, dictionaries'].best:.2f} s with dictionaries, "
        f"{by['pyarrow read, plain strings'].best:.2f} s with plain strings; "
        f"`import vigil.cli` {by['import vigil.cli'].best:.2f} s (each a fresh interpreter, "
        "start-up included).",
    ]
    notes = [r for r in results if r.report]
    lines += [
        "",
        "Peers' own timing (library import + Parquet read + work, without the "
        "interpreter start-up), from their JSON line:",
        "",
    ]
    lines += [f"- {r.task.name}: `{json.dumps(r.report)}`" for r in notes]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument(
        "--vigil",
        type=Path,
        default=Path(sys.executable).parent / "vigil",
        help="vigil executable (default: next to this Python)",
    )
    ap.add_argument(
        "--no-slow-peers",
        action="store_true",
        help="leave whylogs and Evidently out (RESULTS.md is then not written)",
    )
    args = ap.parse_args()
    env = {**os.environ, **QUIET}
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="vigil-bench-") as name:
        tmp = Path(name)
        tasks = make_tasks(args.rows, args.repeat, tmp, args.vigil)
        if args.no_slow_peers:
            tasks = [t for t in tasks if t.name not in SLOW_PEERS]
        for task in tasks:
            print(f"{task.name}: {' '.join(task.argv)}", flush=True)
        slow = [t for t in tasks if t.name in SLOW_PEERS]
        rounds = run_rounds([t for t in tasks if t.name not in SLOW_PEERS], env)
        end = os.getloadavg()
        results = [*rounds, *(run_task(t, env) for t in slow)]
        order = {t.name: i for i, t in enumerate(tasks)}
        results.sort(key=lambda r: order[r.task.name])
        failed = [r for r in results if r.error]
        for r in results:
            status = r.error or f"{r.best:.2f} s, {r.peak_mib:,.0f} MiB"
            print(f"{r.task.name:16} {status}")
        if failed:
            sys.exit(f"{len(failed)} task(s) did not run; {RESULTS.name} not written")
        if args.no_slow_peers:
            for r in results:
                if r.task.name in ("vigil baseline", "vigil analyze", FLOOR):
                    duck = next(d for d in results if d.task.name == "duckdb stats")
                    print(f"{r.task.name} / duckdb stats: {r.best / duck.best:.2f}x")
            print(f"load average {load[0]:.2f} at the start, {end[0]:.2f} at the end")
            sys.exit(f"--no-slow-peers: {RESULTS.name} not written")
        text = report(results, args.rows, args.repeat, tmp, (load[0], end[0]))
    print(text)
    if args.rows == DEFAULT_ROWS:
        write_section("data-quality", text)
        print(f"wrote {RESULTS}")
    else:
        print(f"--rows {args.rows}: smoke run, {RESULTS.name} not written")


if __name__ == "__main__":
    main()
