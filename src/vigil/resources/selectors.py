"""Which processes a ``--process`` option names: ``[LABEL=]SELECTOR``.

Selectors: ``NAME`` (the process name, or the base name of its first argument, equals NAME),
``pid:N``, ``pidfile:PATH`` (the pid written in a file, read again each time) and
``cmdline:REGEX`` (searched in the command line, arguments joined by spaces). The label is
the ``Process`` dimension; by default the name, ``pid-N``, the pid file's stem, or the regex.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath

from vigil.errors import InputError

KINDS = ("name", "pid", "pidfile", "cmdline")


@dataclass(frozen=True)
class ProcessSelector:
    """One parsed ``--process`` value."""

    label: str
    kind: str  # one of KINDS
    value: str

    @classmethod
    def parse(cls, text: str) -> ProcessSelector:
        """Parse ``[LABEL=]SELECTOR``.

        >>> ProcessSelector.parse("gunicorn")
        ProcessSelector(label='gunicorn', kind='name', value='gunicorn')
        >>> ProcessSelector.parse("api=cmdline:uvicorn .*app:api")
        ProcessSelector(label='api', kind='cmdline', value='uvicorn .*app:api')
        >>> ProcessSelector.parse("pidfile:/run/trainer.pid").label
        'trainer'
        >>> ProcessSelector.parse("pid:x")
        Traceback (most recent call last):
        ...
        vigil.errors.InputError: [input_error] process 'pid:x': expected pid:N with N a \
positive integer
        """
        label = ""
        selector = text
        eq, colon = text.find("="), text.find(":")
        if eq > 0 and (colon < 0 or eq < colon):
            label, selector = text[:eq], text[eq + 1 :]
        kind, sep, value = selector.partition(":")
        if not sep or kind not in KINDS[1:]:
            kind, value = "name", selector
        if not value:
            raise InputError(f"process {text!r}: expected [LABEL=]NAME, pid:N, pidfile:PATH "
                             "or cmdline:REGEX")  # fmt: skip
        if kind == "pid" and not (value.isdigit() and int(value) > 0):
            raise InputError(f"process {text!r}: expected pid:N with N a positive integer")
        if kind == "cmdline":
            try:
                re.compile(value)
            except re.error as exc:
                raise InputError(f"process {text!r}: the regex does not compile ({exc})") from None
        default = {"name": value, "pid": f"pid-{value}", "cmdline": value}
        label = label or default.get(kind) or PurePath(value).stem or value
        return cls(label[:255], kind, value)

    def matches(self, name: str, cmdline: Sequence[str]) -> bool:
        """Whether a process with this ``name`` and ``cmdline`` is selected (``name`` and
        ``cmdline`` selectors only; pids are looked up, not matched).

        >>> ProcessSelector.parse("python3").matches("python3", ["/usr/bin/python3", "x.py"])
        True
        >>> ProcessSelector.parse("cmdline:train\\\\.py").matches("python3", ["python3", "t.py"])
        False
        >>> ProcessSelector.parse("cmdline:train").matches("python3", ["python3", "train.py"])
        True
        >>> ProcessSelector.parse("pid:1").matches("init", [])
        False
        """
        if self.kind == "name":
            return name == self.value or bool(cmdline and PurePath(cmdline[0]).name == self.value)
        if self.kind == "cmdline":
            return re.search(self.value, " ".join(cmdline)) is not None
        return False
