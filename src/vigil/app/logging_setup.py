"""The server's logs: text or JSON lines on stderr, with every secret scrubbed.

``vigil server`` calls :func:`configure_logging` once at start. ``VIGIL_LOG_FORMAT`` is
``text`` (the default: ``time level logger: message key=value ...``) or ``json`` (one object
per line: ``time``, ``level``, ``logger``, ``message``, then the record's fields, the keys a
caller passed in ``extra``); ``VIGIL_LOG_LEVEL`` is a level name (default ``INFO``).
Every record passes :class:`SecretFilter` on its way out: bearer tokens (``vgl_...``),
``Authorization`` values and URL user-info and query strings are replaced by ``***`` in the
message, the arguments, the fields and the traceback.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone
from typing import Any, TextIO

from vigil.errors import ConfigError
from vigil.store.redaction import redact, scrub_text

__all__ = ["FORMATS", "JsonFormatter", "SecretFilter", "TextFormatter", "configure_logging"]

FORMATS = ("text", "json")
# Attributes every LogRecord has: anything else on a record is a field passed in ``extra``.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "color_message",  # uvicorn's copy of the message with terminal colours
}
_HANDLER_NAME = "vigil"


def fields_of(record: logging.LogRecord) -> dict[str, Any]:
    """The fields a caller attached to ``record`` (its ``extra``)."""
    kept = vars(record).get(_FIELDS)  # as SecretFilter left them (scrubbed)
    if kept is not None:
        return dict(kept)
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


_FIELDS = "_vigil_fields"  # where SecretFilter keeps a record's scrubbed fields for the formatter


class SecretFilter(logging.Filter):
    """Scrubs tokens, ``Authorization`` values and URL secrets from every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # arguments that do not fit the format
            message = f"{record.msg} {record.args}"
        record.msg, record.args = scrub_text(message), None
        fields = {k: v for k, v in vars(record).items() if k not in _STANDARD and k[:1] != "_"}
        if fields:
            fields = redact("log", fields)
            vars(record).update(fields)
        vars(record)[_FIELDS] = fields
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub_text(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub_text(record.stack_info)
        return True


def _time(record: logging.LogRecord) -> str:
    stamp = datetime.fromtimestamp(record.created, timezone.utc)
    return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class TextFormatter(logging.Formatter):
    """``2024-05-01T12:00:00.000Z INFO vigil.server.requests: GET /x 200 key=value``."""

    def format(self, record: logging.LogRecord) -> str:
        parts = [_time(record), record.levelname, f"{record.name}:", record.getMessage()]
        parts += [f"{k}={v}" for k, v in fields_of(record).items()]
        text = " ".join(parts)
        if record.exc_text:
            text += "\n" + record.exc_text
        return text


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the fields, the traceback."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "time": _time(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        doc.update(fields_of(record))
        if record.exc_text:
            doc["exception"] = record.exc_text
        return json.dumps(doc, default=str, ensure_ascii=False)


def configure_logging(
    log_format: str = "text", level: str = "INFO", stream: TextIO | None = None
) -> logging.Handler:
    """Send every log record (Vigil's and the libraries') to ``stream`` (stderr) in
    ``log_format`` at ``level``, scrubbed. Calling it again replaces the handler it installed."""
    fmt = log_format.strip().lower() or "text"
    if fmt not in FORMATS:
        raise ConfigError(f"VIGIL_LOG_FORMAT {log_format!r}: expected one of {', '.join(FORMATS)}")
    number = logging.getLevelName(level.strip().upper() or "INFO")
    if not isinstance(number, int):
        raise ConfigError(
            f"VIGIL_LOG_LEVEL {level!r}: expected DEBUG, INFO, WARNING, ERROR or CRITICAL"
        )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(SecretFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(number)
    # neither format prints the caller's file and line, the thread or the process: the
    # logging module need not look them up for every record (its documented optimisation;
    # the request log writes a line per request)
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):  # ours, not uvicorn's, format
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    return handler
