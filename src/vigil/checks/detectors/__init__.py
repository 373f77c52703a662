"""Streaming concept-drift detectors, with River's algorithms and defaults.

Every detector takes one value at a time with ``update(x)`` and exposes ``drift_detected``;
``DDM``, ``EDDM``, ``HDDM_A`` and ``HDDM_W`` also expose ``warning_detected``. ``to_state()``
and ``DriftDetector.from_state()`` carry a detector between executions as JSON.
"""

from vigil.checks.detectors.adwin import ADWIN
from vigil.checks.detectors.base import DriftDetector
from vigil.checks.detectors.ddm import DDM
from vigil.checks.detectors.eddm import EDDM
from vigil.checks.detectors.hddm_a import HDDM_A
from vigil.checks.detectors.hddm_w import HDDM_W
from vigil.checks.detectors.kswin import KSWIN
from vigil.checks.detectors.page_hinkley import PageHinkley

__all__ = ["ADWIN", "DDM", "EDDM", "HDDM_A", "HDDM_W", "KSWIN", "DriftDetector", "PageHinkley"]
