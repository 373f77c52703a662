"""The CLI starts fast: ``vigil --help``, ``vigil baseline`` and ``vigil analyze`` import only
what they use, commands load lazily from a table that tells the truth, ``vigil --version``."""

from __future__ import annotations

import importlib.metadata
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main

import vigil
from vigil.cli import COMMANDS
from vigil.cli.lazy import load_command

MAIN = ["-c", "from vigil.cli import main; main()"]
WEB_DB_HTTP = {"fastapi", "starlette", "uvicorn", "sqlalchemy", "httpx"}
_IMPORT = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)$")


def loaded(*args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run ``vigil ARGS`` under ``python -X importtime``: the result, and every module the
    process imported."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *MAIN, *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    modules = {m.group(1) for m in map(_IMPORT.match, done.stderr.splitlines()) if m}
    return done, modules


def tops(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def test_help_imports_no_command_and_no_data_stack():
    done, modules = loaded("--help")
    assert done.returncode == 0, done.stderr
    assert "baseline" in done.stdout and "delivery" in done.stdout
    assert not tops(modules) & (WEB_DB_HTTP | {"numpy", "pyarrow", "pydantic", "pandas"})
    assert {m for m in modules if m.startswith("vigil.cli.")} == {
        "vigil.cli.root",
        "vigil.cli.lazy",
        "vigil.cli.common",
    }


@pytest.fixture(scope="module")
def train(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("startup") / "train.csv"
    rows = "\n".join(f"{i % 7},{i * 0.5},{'abc'[i % 3]}" for i in range(500))
    path.write_text("a,b,c\n" + rows + "\n")
    return path


def test_baseline_and_analyze_import_no_web_server_database_or_http_client(
    train: Path, tmp_path: Path
):
    base = tmp_path / "base"
    done, modules = loaded("baseline", str(train), "--output", str(base))
    assert done.returncode == 0, done.stderr
    assert "vigil.cli.data" in modules
    assert "vigil.cli.model_quality" not in modules  # only with --problem-type
    assert not tops(modules) & WEB_DB_HTTP, sorted(tops(modules) & WEB_DB_HTTP)
    assert not {m for m in modules if m.startswith(("vigil.cli.alarm", "vigil.cli.server"))}
    assert "pandas" not in tops(modules)  # profiling a CSV with text columns needs no pandas

    done, modules = loaded(
        "analyze", str(train), "--baseline", str(base), "--output", str(tmp_path / "an")
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "an" / "report.html").is_file()
    assert not tops(modules) & WEB_DB_HTTP, sorted(tops(modules) & WEB_DB_HTTP)
    assert "pandas" not in tops(modules)


def test_data_quality_without_an_outlier_model_loads_no_anomaly_models_or_capture_records(
    train: Path, tmp_path: Path
):
    base = tmp_path / "base"
    lazy = {"vigil.checks.anomaly.model", "vigil.checks.anomaly.scan", "vigil.formats.capture"}
    done, modules = loaded("baseline", str(train), "--output", str(base))
    assert done.returncode == 0, done.stderr
    assert "vigil.checks.anomaly.options" in modules and not modules & lazy
    done, modules = loaded(
        "analyze", str(train), "--baseline", str(base), "--output", str(tmp_path / "an")
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "vigil.report.html" in modules and not modules & lazy
    assert "numpy.ma" not in modules  # np.unique's masked-array check, avoided
    # with an outlier model both load, and the analysis scores the window
    done, modules = loaded(
        "baseline", str(train), "--output", str(base), "--anomaly-detection",
        "--anomaly-method", "robust_zscore",
    )
    assert done.returncode == 0, done.stderr
    assert "vigil.checks.anomaly.model" in modules
    done, modules = loaded(
        "analyze", str(train), "--baseline", str(base), "--output", str(tmp_path / "an2")
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "vigil.checks.anomaly.scan" in modules
    assert (tmp_path / "an2" / "anomalies.json").is_file()


def test_a_command_help_imports_that_command_only():
    done, modules = loaded("monitor", "--help")
    assert done.returncode == 0 and "backfill" in done.stdout
    assert "vigil.cli.monitor" in modules
    assert not {m for m in modules if m.startswith(("vigil.cli.data", "vigil.cli.alarm"))}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_the_table_says_what_each_command_says(name: str):
    entry = COMMANDS[name]
    command = load_command(name, entry)
    first = inspect.cleandoc(command.help or "").split("\n\n")[0]
    assert " ".join(first.split()) == entry.short_help
    assert hasattr(command, "commands") == entry.group  # a group, or one command
    assert f"vigil.cli.{entry.module.rsplit('.', 1)[1]}" == entry.module


def test_the_table_lists_every_command_each_module_defines():
    modules = {entry.module for entry in COMMANDS.values()}
    defined: set[str] = set()
    for module in modules:
        app = importlib.import_module(module).app
        if app.info.name:  # a group: the module is the command
            defined.add(app.info.name)
        else:
            defined.update(typer.main.get_group(app).commands)
    assert defined == set(COMMANDS)


def test_version():
    done = subprocess.run(
        [sys.executable, *MAIN, "--version"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"vigil {vigil.__version__}\n" == "vigil 0.1.0\n"
    assert vigil.__version__ == importlib.metadata.version("vigil")


def test_import_vigil_is_light_and_every_public_name_still_loads():
    code = (
        "import sys, vigil; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'numpy', 'pyarrow', 'pydantic', 'sqlalchemy', 'fastapi'})); "
        "print(all(getattr(vigil, n) is not None for n in vigil.__all__))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.splitlines() == ["[]", "True"], done.stderr
    assert set(dir(vigil)) >= set(vigil.__all__)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        vigil.nope  # noqa: B018


def test_a_typo_suggests_the_command():
    done = subprocess.run(
        [sys.executable, *MAIN, "analyse"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "Did you mean 'analyze'?" in done.stdout + done.stderr
