"""kl_div against Evidently's own ``_kl_div`` (the peers venv of bench/setup_peers.sh), same
inputs: prints both values and fails when they differ by more than 1e-12 (relative).

Run by ``make bench``; ``make test`` checks kl_div against scipy on the same smoothed counts
(tests/test_kl_div.py), which needs no peer.

    bash bench/setup_peers.sh && .venv/bin/python bench/check_kl_div_evidently.py
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np

from vigil.checks.drift import compute_drift
from vigil.checks.drift.distributions import CategoricalDistribution, NumericDistribution

PEERS_PYTHON = Path(__file__).resolve().parent / ".peers" / "venv" / "bin" / "python"
_EVIDENTLY = """
import json, sys
import numpy as np, pandas as pd
from evidently.legacy.calculations.stattests.kl_div import _kl_div
from evidently.legacy.core import ColumnType
cases = json.load(sys.stdin)
out = []
for kind, a, b in cases:
    t = ColumnType.Numerical if kind == "num" else ColumnType.Categorical
    out.append(float(_kl_div(pd.Series(a), pd.Series(b), t, 0.1)[0]))
print(json.dumps(out))
"""


def main() -> int:
    rng = np.random.default_rng(5)
    num_a, num_b = rng.normal(size=600), rng.normal(0.5, 1.3, size=450)
    few_a, few_b = rng.integers(0, 5, 300).astype(float), rng.integers(1, 7, 200).astype(float)
    cat_a = rng.choice(["a", "b", "c"], 400, p=[0.6, 0.3, 0.1]).tolist()
    cat_b = rng.choice(["a", "b", "d"], 300, p=[0.2, 0.5, 0.3]).tolist()
    cases = [("num", num_a.tolist(), num_b.tolist()), ("num", few_a.tolist(), few_b.tolist()),
             ("cat", cat_a, cat_b)]
    done = subprocess.run([str(PEERS_PYTHON), "-c", _EVIDENTLY], input=json.dumps(cases),
                          capture_output=True, text=True, check=False, timeout=120)
    if done.returncode != 0:
        print(done.stderr[-2000:], file=sys.stderr)
        return 2
    evidently = json.loads(done.stdout)
    ours = [
        compute_drift("kl_div", NumericDistribution.from_values(num_a),
                      NumericDistribution.from_values(num_b)).value,
        compute_drift("kl_div", NumericDistribution.from_values(few_a),
                      NumericDistribution.from_values(few_b)).value,
        compute_drift("kl_div", CategoricalDistribution.from_values(cat_a),
                      CategoricalDistribution.from_values(cat_b)).value,
    ]
    for o, e in zip(ours, evidently):
        print(f"vigil {o!r}  evidently {e!r}")
    same = all(math.isclose(o, e, rel_tol=1e-12) for o, e in zip(ours, evidently))
    print("equal" if same else "DIFFERENT")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())


