#!/usr/bin/env bash
# Create bench/.peers/venv with the pinned peers (whylogs, Evidently, DuckDB) for the benchmark.
# Idempotent: does nothing when the stamp matches the requirements file and the interpreter.
# PYTHON=python3.11 bash bench/setup_peers.sh   to choose the interpreter (default: python3).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
req="$here/peers-requirements.txt"
venv="$here/.peers/venv"
stamp="$venv/.requirements.sha256"
python="${PYTHON:-python3}"

want="$( { cat "$req"; "$python" --version; } | sha256sum | cut -d' ' -f1)"
if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "peers venv up to date: $venv"
    exit 0
fi

echo "creating peers venv: $venv ($("$python" --version))"
rm -rf "$venv"
mkdir -p "$(dirname "$venv")"
"$python" -m venv "$venv"
# Drop pip's noise about absent mirror directories; keep its exit status (pipefail).
"$venv/bin/python" -m pip install --quiet --progress-bar off -r "$req" 2>&1 \
    | { grep -v 'is neither a file nor a directory' || true; }
"$venv/bin/python" -c 'import duckdb, evidently.presets, pandas, psutil, pyarrow, whylogs'
echo "$want" > "$stamp"
echo "peers venv ready: $venv"
