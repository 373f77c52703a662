"""vigil.yaml's ``platform:`` block: applied, exported back, and what a failed run notifies."""

from __future__ import annotations

from pathlib import Path

from vigil.alerts.notify.platform import DEFAULT_TOPIC, get_platform_spec
from vigil.app.bootstrap import open_database
from vigil.app.catalog import apply_config, current_config
from vigil.app.config import dump_config, parse_config
from vigil.store.settings import Settings


def test_platform_block_is_applied_and_exported(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    db = open_database(settings)
    assert get_platform_spec(db).failure_topics == [DEFAULT_TOPIC]  # out of the box
    assert current_config(db).platform is None
    cfg = parse_config(
        "topics: [{name: oncall}]\n"
        "platform: {failure_topics: [oncall], notify_on: [failed], stopped_is_failure: false}\n"
    )
    apply_config(settings, db, cfg)
    spec = get_platform_spec(db)
    assert (spec.failure_topics, spec.notify_on, spec.stopped_is_failure) == (
        ["oncall"], ["failed"], False)
    exported = current_config(db, secrets="export")
    assert exported.platform == cfg.platform
    assert parse_config(dump_config(exported)).platform == cfg.platform
    assert not spec.wants("training_job", "stopped", failure=False)
    assert spec.wants("pipeline", "failed", failure=True)
