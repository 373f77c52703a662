"""Start-up cost of the CLI: what `vigil --help`, `vigil baseline` and `vigil analyze` import.

Each command runs in a fresh interpreter under ``python -X importtime``; the script reports
the wall time (best and median of the runs), the import time Python itself measured (the sum
of every module's own time), the number of modules imported, and whether the web server,
database or HTTP client stacks were loaded (they should not be for these commands). The peer
is the bare interpreter (``python -c pass``) in the same run: the floor any Python CLI pays.

    .venv/bin/python bench/bench_startup.py [--runs 15] [--label after] [--no-write]
        [--compare-with OTHER/src]

With ``--drop-caches`` (root) the page cache is dropped before the first run of each command,
which gives the cold figure. ``--compare-with`` also runs every command on another source tree
(``git worktree add /tmp/old REV`` and pass ``/tmp/old/src``), alternating with this one, so
both are measured in the same run on the same machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import write_section

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
HEAVY = {
    "web server (fastapi, starlette, uvicorn)": ("fastapi", "starlette", "uvicorn"),
    "database (sqlalchemy)": ("sqlalchemy",),
    "HTTP client (httpx)": ("httpx",),
    "scikit-learn": ("sklearn",),
}
_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)")


def _data(tmp: Path) -> tuple[Path, Path]:
    rows = "\n".join(f"{i % 7},{i * 0.5},{'abc'[i % 3]}" for i in range(2000))
    train = tmp / "train.csv"
    train.write_text("a,b,c\n" + rows + "\n")
    base = tmp / "base"
    subprocess.run(
        [PY, "-m", "vigil.cli", "baseline", str(train), "--output", str(base)],
        check=True,
        capture_output=True,
    )
    return train, base


def _commands(tmp: Path) -> dict[str, list[str]]:
    train, base = _data(tmp)
    cli = ["-c", "from vigil.cli import main; main()"]
    return {
        "python -c pass (peer: the interpreter alone)": ["-c", "pass"],
        "vigil --help": [*cli, "--help"],
        "vigil baseline": [*cli, "baseline", str(train), "--output", str(tmp / "b2")],
        "vigil analyze": [
            *cli,
            "analyze",
            str(train),
            "--baseline",
            str(base),
            "--output",
            str(tmp / "an"),
        ],
    }


def _run(args: list[str], drop: bool, src: str | None = None) -> tuple[float, int, int, set[str]]:
    env = {**os.environ, "PYTHONPATH": src} if src else None
    if drop:
        subprocess.run(["sync"], check=False)
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    t0 = time.perf_counter()
    done = subprocess.run(
        [PY, "-X", "importtime", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        env=env,
    )
    wall = time.perf_counter() - t0
    self_us, count, top = 0, 0, set()
    for line in done.stderr.splitlines():
        m = _LINE.match(line)
        if m:
            self_us += int(m.group(1))
            count += 1
            top.add(m.group(4).split(".")[0])
    return wall, self_us, count, top


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--label", default="current tree")
    parser.add_argument("--drop-caches", action="store_true")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--compare-with", metavar="SRC", help="another tree's src/ directory")
    parser.add_argument("--compare-label", default="other tree", help="what to call that tree")
    args = parser.parse_args()
    trees: list[tuple[str, str | None]] = [("", None)]
    if args.compare_with:
        trees = [(" (this tree)", None), (f" ({args.compare_label})", args.compare_with)]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, argv in _commands(Path(tmp)).items():
            trees_here = trees[:1] if argv[0] == "-c" and argv[1] == "pass" else trees
            runs: dict[str | None, list[tuple[float, int, int, set[str]]]] = {
                src: [] for _, src in trees_here
            }
            colds = {src: _run(argv, True, src)[0] if args.drop_caches else None
                     for _, src in trees_here}
            for _ in range(args.runs):  # alternate the trees, run by run
                for _, src in trees_here:
                    runs[src].append(_run(argv, False, src))
            for suffix, src in trees_here:
                done = runs[src]
                walls = [r[0] for r in done]
                imports = statistics.median(r[1] for r in done) / 1e6
                loaded = done[-1][3]
                heavy = [k for k, mods in HEAVY.items() if any(m in loaded for m in mods)]
                rows.append((name + suffix, min(walls), statistics.median(walls), colds[src],
                             imports, done[-1][2], ", ".join(heavy) or "none"))
                print(rows[-1])
    cold_col = args.drop_caches
    head = "| command | best wall | median wall |" + (" cold wall |" if cold_col else "")
    head += " import time (self, median) | modules | heavy stacks loaded |"
    lines = [head, "|---|--:|--:|" + ("--:|" if cold_col else "") + "--:|--:|---|"]
    for name, best, med, cold, imp, count, heavy in rows:
        cells = [name, f"{best:.3f} s", f"{med:.3f} s"]
        if cold_col:
            cells.append(f"{cold:.3f} s")
        cells += [f"{imp:.3f} s", f"{count:,}", heavy]
        lines.append("| " + " | ".join(cells) + " |")
    extra = ""
    if args.compare_with:
        extra = f" --compare-with {args.compare_with} --compare-label '{args.compare_label}'"
    if args.drop_caches:
        extra += " --drop-caches"
    compared = (
        f", alternating with the tree at `{args.compare_with}` ({args.compare_label}; make it "
        "with `git worktree add`)"
        if args.compare_with
        else ""
    )
    text = f"""## CLI start-up: what each command imports (issue 8), {args.label}

- CPU: {platform.machine()}, {os.cpu_count()} cores; OS: {platform.platform()}
- date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; Python {platform.python_version()}
- {args.runs} runs per command, each a fresh interpreter under `python -X importtime`{compared}; the
  baseline and analyze inputs are a 2,000-row CSV of 3 columns (start-up dominates).

Reproduce (from the repository root):

```sh
.venv/bin/python bench/bench_startup.py --runs {args.runs}{extra}
```

{chr(10).join(lines)}
"""
    print(text)
    if not args.no_write:
        write_section(f"startup-{re.sub(r'[^a-z0-9]+', '-', args.label.lower())}", text)


if __name__ == "__main__":
    main()
