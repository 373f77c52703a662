"""The interface every concept-drift detector implements, and its JSON state round trip.

A detector sees one value at a time through :meth:`DriftDetector.update` and exposes
``drift_detected`` (and ``warning_detected`` where the algorithm has a warning zone) for the
value it just saw. Monitoring executions run on windows of a stream; :meth:`~DriftDetector.to_state`
and :meth:`~DriftDetector.from_state` carry a detector from one execution to the next through
plain JSON, so that a stream spanning many windows is one stream.
"""

from __future__ import annotations

import abc
import math
from collections import deque
from typing import Any, ClassVar

from vigil.errors import FormatError, InputError

__all__ = ["DriftDetector"]

_STATE_VERSION = 1
_NON_FINITE = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}


def _encode(value: Any) -> Any:
    """Make ``value`` strict JSON: non-finite floats become strings, sequences become lists."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, (list, tuple, deque)):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, str):
        return _NON_FINITE.get(value, value)
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


class DriftDetector(abc.ABC):
    """Base class of Vigil's streaming concept-drift detectors.

    Subclasses list their constructor arguments in ``_params`` and the attributes that make
    up their running state in ``_state``; both are stored by :meth:`to_state`.
    """

    _params: ClassVar[tuple[str, ...]] = ()
    _state: ClassVar[tuple[str, ...]] = ()
    _registry: ClassVar[dict[str, type[DriftDetector]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        DriftDetector._registry[cls.__name__] = cls

    def __init__(self) -> None:
        self.n_seen = 0
        self._drift_detected = False
        self._warning_detected = False

    @property
    def drift_detected(self) -> bool:
        """Whether the last value seen completed a drift."""
        return self._drift_detected

    @abc.abstractmethod
    def update(self, x: float) -> None:
        """Feed one value of the stream to the detector."""

    @abc.abstractmethod
    def _reset(self) -> None:
        """Forget what was learnt (done at the next update after a drift)."""

    @staticmethod
    def _check(x: float) -> float:
        value = float(x)
        if not math.isfinite(value):
            raise InputError(f"drift detector input must be a finite number, got {x!r}")
        return value

    def to_state(self) -> dict[str, Any]:
        """The detector's parameters and running state as a JSON-serialisable dict."""
        return {
            "type": type(self).__name__,
            "version": _STATE_VERSION,
            "params": {name: _encode(getattr(self, name)) for name in self._params},
            "state": {
                "n_seen": self.n_seen,
                "drift_detected": self._drift_detected,
                "warning_detected": self._warning_detected,
                **{name: _encode(getattr(self, name)) for name in self._state},
            },
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> DriftDetector:
        """Rebuild a detector from :meth:`to_state`'s output; it continues where it stopped."""
        try:
            kind = state["type"]
            target = DriftDetector._registry[kind]
            params = {k: _decode(v) for k, v in state["params"].items()}
            values = {k: _decode(v) for k, v in state["state"].items()}
        except (KeyError, TypeError, AttributeError) as exc:
            raise FormatError(f"drift detector state is malformed: missing or bad {exc}") from exc
        if state.get("version") != _STATE_VERSION:
            raise FormatError(f"drift detector state version {state.get('version')!r} unknown")
        if not issubclass(target, cls):
            raise FormatError(f"state of a {kind} cannot be restored as a {cls.__name__}")
        missing = [name for name in target._state if name not in values]
        if missing:
            raise FormatError(f"{kind} state lacks field(s) {', '.join(missing)}")
        detector = target(**params)
        detector.n_seen = int(values["n_seen"])
        detector._drift_detected = bool(values["drift_detected"])
        detector._warning_detected = bool(values["warning_detected"])
        for name in target._state:
            setattr(detector, name, values[name])
        detector._restored()
        return detector

    def _restored(self) -> None:  # noqa: B027 - an optional hook
        """Turn JSON lists back into the containers the algorithm uses (hook)."""

    def __repr__(self) -> str:
        args = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._params)
        return f"{type(self).__name__}({args})"


class DriftAndWarningDetector(DriftDetector):
    """A detector that also signals a warning zone before a drift."""

    @property
    def warning_detected(self) -> bool:
        """Whether the last value seen lies in the warning zone."""
        return self._warning_detected
