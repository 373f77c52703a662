"""Monitoring as code: the ``vigil.yaml`` that ``vigil apply`` reads and ``vigil export`` writes.

A file declares endpoints, baselines and schedules by name::

    version: 1
    endpoints:
      - name: churn
        capture_uri: s3://bucket/capture/churn
    baselines:
      - name: churn-v1
        endpoint: churn
        path: baselines/churn-v1          # statistics.json + constraints.json, or data
    schedules:
      - name: churn-hourly
        endpoint: churn
        baseline: churn-v1
        expression: cron(0 * ? * * *)
        window_start_offset: -PT1H
        window_end_offset: -PT0H

:func:`load_config` validates it and names the file, line and field of every problem;
:func:`dump_config` writes one back (stable key order, ``load(dump(x)) == x``);
:func:`diff_config` compares the current state with the desired one, so that applying the
same file twice changes nothing the second time.

>>> cfg = parse_config('''
... endpoints: [{name: churn}]
... schedules:
...   - {name: hourly, endpoint: churn, baseline: b1, expression: "rate(1 hour)"}
... ''')
>>> sorted(cfg.undefined_references())
[Reference(kind='baseline', name='b1')]
>>> diff_config(cfg, cfg).summary()
'created 0, updated 0, unchanged 2'

The modules, one concern each: :mod:`~vigil.app.config.base` (names, the model base),
:mod:`~vigil.app.config.catalog` (endpoints, baselines, schedules),
:mod:`~vigil.app.config.alerting` (topics, alarms, workflows, rules),
:mod:`~vigil.app.config.document` (the whole file and its references),
:mod:`~vigil.app.config.loading` (YAML with line numbers), :mod:`~vigil.app.config.dumping`
and :mod:`~vigil.app.config.plan` (the diff).
"""

from __future__ import annotations

from vigil.app.config.alerting import GroupingSpec, SubscriptionSpec, TopicSpec
from vigil.app.config.catalog import BaselineSpec, EndpointSpec, ScheduleSpec
from vigil.app.config.document import Reference, VigilConfig
from vigil.app.config.dumping import dump_config
from vigil.app.config.loading import ConfigFileError, ConfigProblem, load_config, parse_config
from vigil.app.config.plan import (
    KindPlan,
    Plan,
    Update,
    diff_config,
    document_lines,
    plan_document,
)

__all__ = [
    "BaselineSpec",
    "ConfigFileError",
    "ConfigProblem",
    "EndpointSpec",
    "GroupingSpec",
    "KindPlan",
    "Plan",
    "Reference",
    "ScheduleSpec",
    "SubscriptionSpec",
    "TopicSpec",
    "Update",
    "VigilConfig",
    "diff_config",
    "document_lines",
    "dump_config",
    "load_config",
    "parse_config",
    "plan_document",
]
