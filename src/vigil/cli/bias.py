"""``vigil bias``: Clarify's bias metrics of data files, written as ``analysis.json`` (no
server, database or HTTP client)."""

from __future__ import annotations

from typing import Annotated

import typer

from vigil.analysis.bias import bias as run_bias
from vigil.cli.common import fail, line, table
from vigil.errors import VigilError
from vigil.formats.clarify_analysis import POST, PRE
from vigil.locations import join_location

app = typer.Typer()


@app.command()
def bias(
    inputs: Annotated[list[str], typer.Argument(help="Files, directories or globs.")],
    config: Annotated[
        str, typer.Option("--config", "-c", help="Clarify's analysis_config.json (or s3:// URL).")
    ],
    output: Annotated[
        str, typer.Option("--output", "-o", help="Directory (or s3:// prefix) to write to.")
    ],
    lenient_thresholds: Annotated[
        bool,
        typer.Option(
            "--lenient-thresholds",
            help="A facet or label threshold at or above the column's maximum gives Clarify's "
            "empty-facet errors per metric instead of exit 2.",
        ),
    ] = False,
) -> None:
    """Clarify's bias metrics (pre-training, and post-training when the data gives predicted
    labels); write analysis.json."""
    try:
        doc = run_bias(inputs, config, strict_thresholds=not lenient_thresholds)
        written = doc.save(join_location(output, "analysis.json"))
    except (VigilError, LookupError) as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"--output {output}: cannot write: {exc.strerror or exc}") from None
    parts = doc.to_dict()
    for key, title in ((PRE, "pre-training"), (POST, "post-training")):
        section = parts.get(key)
        if not section:
            continue
        rows = []
        for facet, entries in section["facets"].items():
            for entry in entries:
                for m in entry["metrics"]:
                    value = m["value"]
                    shown = m.get("error") or (value if isinstance(value, str) else f"{value:.6g}")
                    rows.append((facet, entry["value_or_threshold"], m["name"], str(shown)))
        table(
            f"{title} bias, label {section['label']} = {section['label_value_or_threshold']}",
            ("facet", "value", "metric", "value or error"),
            rows,
        )
    line(f"analysis written to {written}")
