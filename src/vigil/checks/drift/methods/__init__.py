"""Every drift method, one module each, registered in :mod:`vigil.checks.drift.registry`.

Importing this package registers them all. The order of the imports below is the order the
registry lists the methods in (error messages, the CLI's choices, the README table): SageMaker's
first, then Evidently's, ``auto`` last. A new method is a new module here that calls
``register``, a line below, a row in the README table and a reference in
``tests/test_drift_registry.py``.
"""

# isort: off
# (the import order is the registration order)
from vigil.checks.drift.methods.simple import SIMPLE, ks_statistic
from vigil.checks.drift.methods.robust import ROBUST, robust_linf
from vigil.checks.drift.methods.linfinity import LINFINITY
from vigil.checks.drift.methods.sagemaker_chi_squared import CHISQUARED, sagemaker_chisquare_buckets
from vigil.checks.drift.methods.ks import KS
from vigil.checks.drift.methods.wasserstein import WASSERSTEIN
from vigil.checks.drift.methods.psi import PSI
from vigil.checks.drift.methods.jensen_shannon import JENSEN_SHANNON
from vigil.checks.drift.methods.hellinger import HELLINGER
from vigil.checks.drift.methods.kl_div import KL_DIV
from vigil.checks.drift.methods.chi_squared import CHI_SQUARED
from vigil.checks.drift.methods.z_test import Z_TEST
from vigil.checks.drift.methods.auto import AUTO

# isort: on

__all__ = [
    "AUTO",
    "CHISQUARED",
    "CHI_SQUARED",
    "HELLINGER",
    "JENSEN_SHANNON",
    "KL_DIV",
    "KS",
    "LINFINITY",
    "PSI",
    "ROBUST",
    "SIMPLE",
    "WASSERSTEIN",
    "Z_TEST",
    "ks_statistic",
    "robust_linf",
    "sagemaker_chisquare_buckets",
]
