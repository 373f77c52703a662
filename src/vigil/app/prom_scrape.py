"""Scraping Prometheus targets (``scrape_configs``) into the metric store, so alarms work on them.

Each target of each job is fetched on the job's ``scrape_interval`` (through the outbound
policy: a loopback or private target needs ``VIGIL_OUTBOUND_ALLOW``), parsed
(:mod:`vigil.metrics.exposition_parse`) and stored:

* namespace ``prometheus/<job_name>``, metric name = the series name (``http_requests_total``,
  ``rpc_seconds_bucket``...), dimensions = the series' labels (``le`` and ``quantile``
  included: each bucket is a series, as in Prometheus' own storage, so a bucket can be
  alarmed on) + the target's ``labels`` + ``job`` + ``instance``. A scraped label that clashes
  with a target label is kept as ``exported_<name>`` unless ``honor_labels``. Empty label
  values are absent labels (as in Prometheus).
* cumulative series (counters; a histogram's ``_bucket``, ``_sum``, ``_count``; a summary's
  ``_sum`` and ``_count``) are stored raw AND as ``<name>:increase``, the increase since the
  previous scrape of that series (after a reset, a value below the previous one, the new
  value itself, as ``increase()`` counts it). ``Sum`` of ``:increase`` over a period is what
  the period added, so a CloudWatch-style alarm on ``Sum`` is an alarm on the rate.
* ``NaN`` and infinite values are skipped and counted; so are samples the store cannot hold
  (more than 30 labels, a value over 255 characters).
* per target, as Prometheus does: ``up`` (1, or 0 when the scrape failed),
  ``scrape_duration_seconds``, ``scrape_samples_scraped`` and ``scrape_samples_skipped``.

A target that fails (refused, unreachable, times out, answers an error status or a broken
exposition) fails alone: ``up`` 0 is stored, the error logged and told to ``on_error`` (the
server counts it as ``vigil/Scheduler`` ``Errors``, ``Kind`` ``scrape``); the others go on.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import httpx

from vigil.app.config.scrape import ScrapeConfigSpec
from vigil.app.prom_targets import scrape_configs
from vigil.errors import InputError
from vigil.metrics.datum import MAX_DIMENSIONS, MAX_NAME, MetricDatum
from vigil.metrics.exposition import MetricFamily
from vigil.metrics.exposition_parse import parse_exposition
from vigil.net.http import guarded_client
from vigil.store.db import Database
from vigil.store.metrics import MetricStore

log = logging.getLogger(__name__)
ACCEPT = "text/plain;version=0.0.4;q=1,*/*;q=0.1"
MAX_BYTES = 16 * 1024 * 1024
INCREASE = ":increase"
ErrorHook = Callable[[str, str, str], None]


def namespace_of(job: str) -> str:
    """The store namespace of a job's series.

    >>> namespace_of("model-server")
    'prometheus/model-server'
    """
    return f"prometheus/{job}"


def _cumulative(family: MetricFamily, name: str) -> bool:
    if family.type == "counter":
        return True
    if family.type == "histogram":
        return name.endswith(("_bucket", "_sum", "_count"))
    if family.type == "summary":
        return name.endswith(("_sum", "_count"))
    return False


@dataclass
class Converted:
    """The datapoints of one scrape and what was left out."""

    data: list[MetricDatum] = field(default_factory=list)
    samples: int = 0
    skipped: int = 0  # NaN, infinities, samples the store cannot hold


def to_data(
    families: Iterable[MetricFamily],
    spec: ScrapeConfigSpec,
    instance: str,
    target_labels: dict[str, str],
    now: datetime,
    previous: dict[tuple[str, str], float],
) -> Converted:
    """The store's datapoints for one scrape of ``instance``; ``previous`` (series -> last
    cumulative value) is read and updated to compute the increases."""
    out = Converted()
    namespace = namespace_of(spec.job_name)
    fixed = {**target_labels, "job": spec.job_name, "instance": instance}
    for fam in families:
        for s in fam.samples:
            out.samples += 1
            if not math.isfinite(s.value):
                out.skipped += 1
                continue
            labels = {k: v for k, v in s.labels.items() if v != ""}
            for k, v in fixed.items():
                if k in labels and not spec.honor_labels:
                    labels[f"exported_{k}"] = labels.pop(k)
                labels.setdefault(k, v)
            if spec.metric_relabel_configs:
                named = {**labels, "__name__": s.name}
                if not all(r.keeps(named) for r in spec.metric_relabel_configs):
                    continue
            if (
                len(labels) > MAX_DIMENSIONS
                or len(s.name) > MAX_NAME - len(INCREASE)
                or any(len(v) > MAX_NAME or len(k) > MAX_NAME for k, v in labels.items())
            ):
                out.skipped += 1
                continue
            stamp = (
                now if s.timestamp_ms is None
                else datetime.fromtimestamp(s.timestamp_ms / 1000, timezone.utc)
            )  # fmt: skip
            datum = MetricDatum(namespace, s.name, labels, stamp, s.value)
            out.data.append(datum)
            if _cumulative(fam, s.name):
                key = (s.name, datum.dimensions_key)
                before = previous.get(key)
                previous[key] = s.value
                if before is not None:
                    grew = s.value - before if s.value >= before else s.value
                    out.data.append(MetricDatum(namespace, s.name + INCREASE, labels, stamp, grew))
    return out


def _target_data(
    spec: ScrapeConfigSpec, instance: str, labels: dict[str, str], now: datetime,
    up: bool, seconds: float, converted: Converted,
) -> list[MetricDatum]:  # fmt: skip
    dims = {**labels, "job": spec.job_name, "instance": instance}
    ns = namespace_of(spec.job_name)
    return [
        MetricDatum(ns, "up", dims, now, 1.0 if up else 0.0),
        MetricDatum(ns, "scrape_duration_seconds", dims, now, seconds, unit="Seconds"),
        MetricDatum(ns, "scrape_samples_scraped", dims, now, converted.samples, unit="Count"),
        MetricDatum(ns, "scrape_samples_skipped", dims, now, converted.skipped, unit="Count"),
    ]


class Scraper:
    """Scrapes every due target of the stored scrape configs into ``metrics``."""

    def __init__(
        self,
        db: Database,
        metrics: MetricStore,
        *,
        on_error: ErrorHook | None = None,
        configs: Callable[[], list[ScrapeConfigSpec]] | None = None,
    ) -> None:
        self.db, self.metrics, self.on_error = db, metrics, on_error
        self._configs = configs or (lambda: scrape_configs(db))
        self._due: dict[tuple[str, str], float] = {}  # (job, instance) -> monotonic due time
        self._previous: dict[tuple[str, str], dict[tuple[str, str], float]] = {}
        self._client = guarded_client(headers={"Accept": ACCEPT})

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()

    def scrape(self, spec: ScrapeConfigSpec, instance: str, labels: dict[str, str]) -> bool:
        """Scrape one target now and store what it gave; whether it was up."""
        now = datetime.now(timezone.utc)
        started = time.monotonic()
        url = f"{spec.scheme}://{instance}{spec.metrics_path}"
        converted = Converted()
        up = False
        try:
            response = self._client.get(url, headers=spec.header(), timeout=spec.timeout_seconds)
            if response.status_code != 200:
                raise InputError(f"HTTP {response.status_code} from {url}")
            if len(response.content) > MAX_BYTES:
                raise InputError(f"{url}: exposition over {MAX_BYTES} bytes")
            families = parse_exposition(response.text)
            previous = self._previous.setdefault((spec.job_name, instance), {})
            converted = to_data(families, spec, instance, labels, now, previous)
            self.metrics.put(converted.data)
            up = True
        except (httpx.HTTPError, ValueError, PermissionError, OSError) as exc:
            message = f"{type(exc).__name__}: {exc}"
            log.warning("scrape of %s (job %s) failed: %s", url, spec.job_name, message)
            if self.on_error is not None:
                self.on_error("scrape", f"{spec.job_name}/{instance}", message)
        seconds = time.monotonic() - started
        self.metrics.put(_target_data(spec, instance, labels, now, up, seconds, converted))
        return up

    def run_due(self) -> int:
        """Scrape every target whose interval has passed; the number scraped."""
        done = 0
        wanted: set[tuple[str, str]] = set()
        for spec in self._configs():
            for static in spec.static_configs:
                for instance in static.targets:
                    key = (spec.job_name, instance)
                    wanted.add(key)
                    if time.monotonic() < self._due.get(key, 0.0):
                        continue
                    self._due[key] = time.monotonic() + spec.interval_seconds
                    try:
                        self.scrape(spec, instance, dict(static.labels))
                    except Exception as exc:  # one target fails alone, whatever went wrong
                        log.exception("scrape of %s (job %s) failed", instance, spec.job_name)
                        if self.on_error is not None:
                            self.on_error("scrape", f"{spec.job_name}/{instance}", str(exc))
                    done += 1
        for key in set(self._due) - wanted:  # removed targets: forget them
            self._due.pop(key, None)
            self._previous.pop(key, None)
        return done


class ScrapeLoop:
    """A background thread running :meth:`Scraper.run_due` every ``tick`` seconds (its own
    thread, so a slow target never delays the scheduler's loop)."""

    def __init__(self, scraper: Scraper, tick: float = 0.5) -> None:
        self.scraper, self.tick = scraper, tick
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="vigil-scraper", daemon=True)

    def start(self) -> None:
        """Start scraping."""
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop after the scrape under way."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self.scraper.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.scraper.run_due()
            except Exception:  # keep scraping: the configs may be readable next time
                log.exception("scraping failed")
            self._stop.wait(self.tick)


def start_scraping(rt: Any, on_error: ErrorHook | None = None) -> ScrapeLoop:
    """Start the scrape loop of a server runtime (``rt.db``, ``rt.metrics``)."""
    loop = ScrapeLoop(Scraper(rt.db, rt.metrics, on_error=on_error))
    loop.start()
    return loop
