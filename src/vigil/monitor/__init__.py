"""Monitoring jobs: the executions of a schedule, analysing a window against its baseline.

- :mod:`~vigil.monitor.runner`: :func:`~vigil.monitor.runner.run_scheduled` and
  :func:`~vigil.monitor.runner.rerun`, the entry points (claim, run the job, finish);
- :mod:`~vigil.monitor.runtime`: :class:`~vigil.monitor.runtime.Runtime`, what they run with;
- :mod:`~vigil.monitor.windows`: the window of an execution and its captures;
- :mod:`~vigil.monitor.lifecycle`: claiming an execution once, finishing it with its event
  and status figures;
- :mod:`~vigil.monitor.data_quality` and :mod:`~vigil.monitor.model_quality`: the jobs;
- :mod:`~vigil.monitor.emission`: the figures as datapoints, named by
  :mod:`vigil.metrics.contract`;
- :mod:`~vigil.monitor.drift_streams` and :mod:`~vigil.monitor.detector_feed`: concept drift
  across executions.

Monitors never call alarms: they write figures, which alarms read.
"""
