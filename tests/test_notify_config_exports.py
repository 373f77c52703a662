"""The public names of vigil.alerts.notify and vigil.app.config are exactly the intended
ones, and each is importable from the package (its modules are implementation)."""

from __future__ import annotations

import importlib

import pytest

EXPORTS = {
    "vigil.alerts.notify": {
        "FLAP_TRANSITIONS",
        "FLAP_WINDOW",
        "SEVERITY",
        "SILENCED",
        "active_silences",
        "add_silence",
        "event_message",
        "execution_summary",
        "feature_drifts",
        "flush_groups",
        "make_outbox",
        "message_for",
        "metric_summary",
        "notify_transitions",
        "publish",
        "put_topic",
        "repush_firing",
        "subscribe",
        "subscriptions_of",
        "topic_publisher",
        "topics",
        "with_context",
    },
    "vigil.app.config": {
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
    },
}


@pytest.mark.parametrize("package", sorted(EXPORTS))
def test_exported_names_are_exactly_the_intended_ones(package: str):
    module = importlib.import_module(package)
    assert set(module.__all__) == EXPORTS[package]
    assert sorted(module.__all__) == module.__all__
    for name in module.__all__:
        assert getattr(module, name) is not None


def test_config_file_error_is_named_by_its_package():
    from vigil.app.config import ConfigFileError
    from vigil.errors import ConfigError

    assert ConfigFileError.__module__ == "vigil.app.config"
    assert issubclass(ConfigFileError, ConfigError) and issubclass(ConfigFileError, ValueError)
