"""Streaming concept-drift detectors, with River's algorithms and defaults.

Every detector takes one value at a time with ``update(x)`` and exposes ``drift_detected``;
``DDM``, ``EDDM``, ``HDDM_A`` and ``HDDM_W`` also expose ``warning_detected``. ``to_state()``
and ``DriftDetector.from_state()`` carry a detector between executions as JSON.
"""

from vigil.drift.adwin import ADWIN
from vigil.drift.base import DriftDetector
from vigil.drift.ddm import DDM
from vigil.drift.eddm import EDDM
from vigil.drift.hddm_a import HDDM_A
from vigil.drift.hddm_w import HDDM_W
from vigil.drift.kswin import KSWIN
from vigil.drift.page_hinkley import PageHinkley

__all__ = ["ADWIN", "DDM", "EDDM", "HDDM_A", "HDDM_W", "KSWIN", "DriftDetector", "PageHinkley"]
