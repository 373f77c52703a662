"""``vigil.explain``: read the data and the model, explain, write Clarify's files.

>>> import numpy as np, pyarrow as pa, vigil
>>> config = {"headers": ["a", "b"], "methods": {"shap": {"baseline": [[0.0, 0.0]]}}}
>>> e = vigil.explain(pa.table({"a": [1.0, 2.0], "b": [1.0, 0.0]}), config,
...                   lambda x: x @ np.array([1.0, 3.0]))
>>> e.algorithm, e.labels[0].global_shap_values
('kernel_shap', {'a': 1.5, 'b': 1.5})
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import orjson

from vigil.analysis.explain import (
    Algorithm,
    Explanation,
    Model,
    Progress,
    explain_matrix,
    read_features,
    save_explanation,
)
from vigil.errors import ConfigError
from vigil.formats.clarify_explain import ExplainConfig, parse_explain_config
from vigil.locations import as_location
from vigil.net.predictors import load_model, model_from_object
from vigil.store.code_policy import CodePolicy

__all__ = ["DEFAULT_TIME_BUDGET", "explain", "load_config"]

DEFAULT_TIME_BUDGET = 3600.0  # seconds; None for no limit


def load_config(config: ExplainConfig | Mapping[str, Any] | str | os.PathLike[str]) -> (
    ExplainConfig
):
    """An ``analysis_config.json`` (a path, its parsed JSON, or already parsed)."""
    if isinstance(config, ExplainConfig):
        return config
    if isinstance(config, Mapping):
        return parse_explain_config(config)
    path = as_location(config)
    try:
        doc = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except orjson.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON: {exc}") from None
    try:
        return parse_explain_config(doc)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc.message}") from None


def explain(
    data: Any,
    config: ExplainConfig | Mapping[str, Any] | str | os.PathLike[str],
    model: Any,
    *,
    output: str | os.PathLike[str] | None = None,
    algorithm: Algorithm = "auto",
    progress: Progress | None = None,
    time_budget: float | None = DEFAULT_TIME_BUDGET,
    format: str = "auto",
    policy: CodePolicy | None = None,
) -> Explanation:
    """Explain ``model`` on ``data`` as Clarify's ``methods.shap`` in ``config`` asks.

    ``data``: paths (CSV, Parquet, JSON Lines) or an in-memory table. ``model``: a model file
    path, ``module:callable``, an http(s) URL, a fitted model object, a callable
    ``ndarray -> ndarray`` or a :class:`~vigil.analysis.explain.Model`. ``output``: a
    directory to write ``analysis.json`` (and ``explanations_shap/out.csv`` when
    ``save_local_shap_values`` is set) into. ``policy``: the server's code policy for model
    files and entry points (None: load what is given, as the CLI does). See
    :func:`~vigil.analysis.explain.explain_matrix` for ``algorithm``, ``progress`` and
    ``time_budget``."""
    cfg = load_config(config)
    predictor = cfg.predictor
    if isinstance(model, Model):
        core = model
    elif isinstance(model, (str, os.PathLike)):
        loaded = load_model(model, predictor, policy=policy)
        core, predictor = loaded.model, loaded.predictor
    else:
        core = model_from_object(model, type(model).__name__)
    x, names = read_features(data, cfg, format=format)
    result = explain_matrix(
        x, names, core, cfg.shap, predictor,
        algorithm=algorithm, progress=progress, time_budget=time_budget,
    )
    if output is not None:
        save_explanation(result, output, local=cfg.shap.save_local_shap_values)
    return result
