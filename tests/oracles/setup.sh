#!/usr/bin/env bash
# Create tests/oracles/.venv with smclarify 0.5 and pandas<3 (the reference for the bias tests).
# Idempotent: does nothing when the stamp matches the requirements file and the interpreter.
# PYTHON=python3.11 bash tests/oracles/setup.sh   to choose the interpreter (default: python3).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
req="$here/requirements.txt"
venv="$here/.venv"
stamp="$venv/.requirements.sha256"
python="${PYTHON:-python3}"

want="$( { cat "$req"; "$python" --version; } | sha256sum | cut -d' ' -f1)"
if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "oracle venv up to date: $venv"
    exit 0
fi

echo "creating oracle venv: $venv ($("$python" --version))"
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --progress-bar off -r "$req" 2>&1 \
    | { grep -v 'is neither a file nor a directory' || true; }
"$venv/bin/python" -c 'import smclarify.bias.report, pandas; assert int(pandas.__version__.split(".")[0]) < 3'
echo "$want" > "$stamp"
echo "oracle venv ready: $venv"
