"""Record preprocessors with SageMaker's contract: loading them and reading what they return.

A preprocessor is a callable or a ``.py`` file defining ``preprocess_handler(inference_record[,
logger])``; its result (a dict, a list of dicts or ``[]``) replaces the decoded payload.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vigil.errors import ConfigError, InputError
from vigil.io.capture.decoder import Row
from vigil.io.capture.inference_record import InferenceRecord

PREPROCESSOR_LOGGER = "vigil.capture.preprocessor"


class PreprocessorError(InputError):
    """A record preprocessor that raised, or returned something other than rows."""

    code = "preprocessor_error"


Preprocessor = Callable[[InferenceRecord], Any]


def _takes_logger(handler: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(handler).parameters.values()
    except (TypeError, ValueError):
        return False
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params):
        return True
    return sum(p.kind in kinds for p in params) >= 2


def load_preprocessor(spec: Callable[..., Any] | str | os.PathLike[str]) -> Preprocessor:
    """A one-argument preprocessor from a callable or a ``.py`` file's ``preprocess_handler``.

    A handler taking two parameters also gets a :mod:`logging` logger
    (``vigil.capture.preprocessor``), as SageMaker passes one.

    >>> seen = []
    >>> handle = load_preprocessor(lambda record, logger: seen.append(logger.name) or [])
    >>> handle(InferenceRecord.of({"captureData": {}})), seen
    ([], ['vigil.capture.preprocessor'])
    """
    if callable(spec):
        handler: Callable[..., Any] = spec
    else:
        path = Path(spec)
        if not path.is_file():
            raise ConfigError(f"preprocessor {path}: no such file")
        digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]
        module_spec = importlib.util.spec_from_file_location(f"vigil_preprocessor_{digest}", path)
        if module_spec is None or module_spec.loader is None:
            raise ConfigError(f"preprocessor {path}: not a Python file")
        module = importlib.util.module_from_spec(module_spec)
        try:
            module_spec.loader.exec_module(module)
        except Exception as exc:
            raise ConfigError(f"preprocessor {path}: cannot load it: {exc!r}") from None
        handler = getattr(module, "preprocess_handler", None)  # type: ignore[assignment]
        if not callable(handler):
            raise ConfigError(f"preprocessor {path}: defines no preprocess_handler function")
    if _takes_logger(handler):
        logger = logging.getLogger(PREPROCESSOR_LOGGER)
        return lambda record: handler(record, logger)
    return handler


def preprocessed_rows(result: Any) -> list[Row]:
    """A handler's result as rows: a dict is one row, a list of dicts several, ``[]`` none.

    >>> preprocessed_rows({0: "1", "b": 2}), preprocessed_rows([])
    ([{'0': '1', 'b': 2}], [])
    """
    if isinstance(result, dict):
        return [{str(k): v for k, v in result.items()}]
    if isinstance(result, (list, tuple)):
        rows = []
        for item in result:
            if not isinstance(item, dict):
                raise PreprocessorError(
                    f"preprocessor returned a list holding {type(item).__name__}; "
                    "expected flat dicts"
                )
            rows.append({str(k): v for k, v in item.items()})
        return rows
    raise PreprocessorError(
        f"preprocessor returned {type(result).__name__}; expected a dict, a list of dicts or []"
    )
