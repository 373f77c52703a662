"""Running one target once: a command, a Python entry point or an HTTP call.

Each function returns a :class:`TargetResult` or raises :class:`StepError` with the error name
retriers and catchers select on (see :mod:`vigil.actions.errors`). Workflow targets are run by
the engine, as child runs.

Given a :class:`~vigil.store.code_policy.CodePolicy` (the server always passes its own), a
command or Python target the policy does not allow fails with ``Vigil.CodeNotAllowed`` and runs
nothing; without one (``policy=None``: the operator's own Python calling the library) anything
runs.

>>> import sys
>>> r = run_command(CommandTarget(command=[sys.executable, "-c",
...     "import json, sys; print(json.dumps({'n': json.load(sys.stdin)['n'] + 1}))"]), {"n": 1})
>>> r.output
{'n': 2}
>>> run_python(PythonTarget(entry_point="json:dumps"), [1, 2]).output
'[1, 2]'
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from vigil.actions import errors as E
from vigil.actions.errors import StepError
from vigil.actions.spec import CommandTarget, HttpTarget, PythonTarget, Rule, Workflow
from vigil.net.errors import OutboundRefusedError
from vigil.net.http import guarded_client
from vigil.store.code_policy import CodeNotAllowedError, CodePolicy, load_entry_point
from vigil.store.secrets import redact_url

OUTPUT_LIMIT = 64 * 1024  # bytes of stdout/stderr kept in an attempt's record
_KILL_GRACE_SECONDS = 5.0
CODE_NOT_ALLOWED = "Vigil.CodeNotAllowed"  # the error of a target the code policy refuses


@dataclass
class TargetResult:
    """What a target produced: its output and, for commands, what it printed."""

    output: Any
    stdout: str | None = None
    stderr: str | None = None


def to_jsonable(value: Any) -> Any:
    """``value`` as plain JSON data (datetimes as ISO strings, unknown objects as ``str``).

    >>> from datetime import datetime, timezone
    >>> to_jsonable({"t": datetime(2024, 5, 1, tzinfo=timezone.utc), "s": {1}})
    {'t': '2024-05-01T00:00:00+00:00', 's': '{1}'}
    """
    return orjson.loads(orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS))


def truncate(text: str | None, limit: int = OUTPUT_LIMIT) -> str | None:
    """``text`` cut to ``limit`` UTF-8 bytes, with a marker saying how much was dropped.

    >>> truncate("abcdef", 3)
    'abc\\n[... 3 more bytes truncated]'
    """
    if text is None:
        return None
    data = text.encode("utf-8", "replace")
    if len(data) <= limit:
        return text
    kept = data[:limit].decode("utf-8", "ignore")
    return f"{kept}\n[... {len(data) - limit} more bytes truncated]"


def parse_output(stdout: str) -> Any:
    """A command's output: stdout as JSON, else its last line as JSON, else the text.

    >>> parse_output('log line\\n{"auc": 0.9}\\n'), parse_output("plain"), parse_output("")
    ({'auc': 0.9}, 'plain', None)
    """
    text = stdout.strip()
    if not text:
        return None
    for candidate in (text, text.splitlines()[-1]):
        try:
            return json.loads(candidate)
        except ValueError:
            continue
    return stdout


def error_line(stdout: str) -> tuple[str, str] | None:
    """The last ``{"error": name, "cause": ...}`` line a failed command printed, if any.

    >>> error_line('x\\n{"error": "Validation.Worse", "cause": "auc 0.7"}\\n')
    ('Validation.Worse', 'auc 0.7')
    """
    for line in reversed(stdout.strip().splitlines()):
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if isinstance(data, dict) and isinstance(data.get("error"), str) and data["error"]:
            cause = data.get("cause", "")
            return data["error"], cause if isinstance(cause, str) else json.dumps(cause)
    return None


def run_command(
    target: CommandTarget,
    input: Any,
    *,
    context: Mapping[str, str] | None = None,
    output_limit: int = OUTPUT_LIMIT,
    policy: CodePolicy | None = None,
) -> TargetResult:
    """Run ``target`` with ``input`` as JSON on stdin and in ``$VIGIL_INPUT``.

    ``context`` adds environment variables (the engine passes ``VIGIL_RUN_ID``, ``VIGIL_STEP``,
    ``VIGIL_ATTEMPT``). The command runs in its own process group; on timeout the whole group
    is killed with SIGKILL and the error is ``States.Timeout``. With a ``policy`` the program
    must be one it allows, and the checked real path is what runs.
    """
    executable = None
    if policy is not None:
        try:
            executable = policy.command_executable(target.command, cwd=target.cwd)
            policy.check_env(target.env)
        except CodeNotAllowedError as exc:
            raise StepError(CODE_NOT_ALLOWED, exc.message) from None
    payload = orjson.dumps(to_jsonable(input))
    env = {**os.environ, **target.env, **(context or {}), "VIGIL_INPUT": payload.decode()}
    shell = isinstance(target.command, str)
    try:
        proc = subprocess.Popen(
            target.command,
            executable=executable,
            shell=shell,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=target.cwd,
            start_new_session=True,
        )
    except OSError as exc:
        raise StepError(E.COMMAND_NOT_FOUND, f"cannot run {target.command!r}: {exc}") from None
    try:
        raw_out, raw_err = proc.communicate(payload, timeout=target.timeout_seconds)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        try:
            raw_out, raw_err = proc.communicate(timeout=_KILL_GRACE_SECONDS)
        except subprocess.TimeoutExpired:  # a descendant left the group and holds the pipes
            raw_out, raw_err = b"", b""
        raise StepError(
            E.TIMEOUT,
            f"command timed out after {target.timeout_seconds:g} s and was killed",
            stdout=truncate(raw_out.decode("utf-8", "replace"), output_limit),
            stderr=truncate(raw_err.decode("utf-8", "replace"), output_limit),
        ) from None
    except BaseException:
        _kill_group(proc)
        raise
    stdout = raw_out.decode("utf-8", "replace")
    stderr = raw_err.decode("utf-8", "replace")
    kept_out, kept_err = truncate(stdout, output_limit), truncate(stderr, output_limit)
    if proc.returncode != 0:
        signalled = error_line(stdout)
        if signalled:
            raise StepError(*signalled, stdout=kept_out, stderr=kept_err)
        how = (
            f"killed by signal {-proc.returncode}"
            if proc.returncode < 0
            else f"exit code {proc.returncode}"
        )
        tail = stderr.strip().splitlines()[-1:] if stderr.strip() else []
        cause = f"{how}: {tail[0][:500]}" if tail else how
        raise StepError(E.COMMAND_NON_ZERO_EXIT, cause, stdout=kept_out, stderr=kept_err)
    return TargetResult(parse_output(stdout), kept_out, kept_err)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(Exception):
        proc.kill()


def run_python(
    target: PythonTarget, input: Any, *, policy: CodePolicy | None = None
) -> TargetResult:
    """Import the entry point and call it with ``input``; its return value is the output.

    An exception becomes an error named after its class (``ValueError``), with the traceback
    recorded as the attempt's stderr; raise :class:`StepError` to choose the name. With a
    ``policy`` the module must be one it allows (else ``Vigil.CodeNotAllowed``, nothing loaded).
    """
    try:
        function = load_entry_point(target.entry_point, policy)
        output = function(input)
        return TargetResult(to_jsonable(output))
    except StepError:
        raise
    except CodeNotAllowedError as exc:
        raise StepError(CODE_NOT_ALLOWED, exc.message) from None
    except Exception as exc:
        raise StepError(
            type(exc).__name__, str(exc) or repr(exc), stderr=truncate(traceback.format_exc())
        ) from None


def run_http(
    target: HttpTarget,
    input: Any,
    *,
    context: Mapping[str, str] | None = None,
    client: httpx.Client | None = None,
) -> TargetResult:
    """Send ``input`` as JSON (no body for GET) and return the JSON answer (or its text).

    ``context`` becomes ``X-Vigil-*`` headers (run id, step, attempt) so receivers can drop
    duplicates of an at-least-once delivery. Without ``client``, the request goes through
    :func:`vigil.net.http.guarded_client`: only to addresses the outbound policy allows, no
    redirect followed; a refused connection is an ``Http.ConnectionError`` saying why.
    """
    headers = {f"X-Vigil-{k.title().replace('_', '-')}": v for k, v in (context or {}).items()}
    headers.update(target.headers)
    body = None if target.method == "GET" else orjson.dumps(to_jsonable(input))
    if body is not None:
        headers.setdefault("Content-Type", "application/json")
    shown = redact_url(target.url)  # never a secret of the URL in a run's error
    try:
        if client is None:
            with guarded_client() as own:
                response = own.request(
                    target.method,
                    target.url,
                    content=body,
                    headers=headers,
                    timeout=target.timeout_seconds,
                )
        else:
            response = client.request(
                target.method,
                target.url,
                content=body,
                headers=headers,
                timeout=target.timeout_seconds,
            )
    except OutboundRefusedError as exc:
        raise StepError(
            E.HTTP_CONNECTION_ERROR, f"{target.method} {target.url}: {exc.message}"
        ) from None
    except httpx.TimeoutException as exc:
        raise StepError(E.TIMEOUT, f"{target.method} {shown} timed out: {exc}") from None
    except httpx.HTTPError as exc:
        raise StepError(
            E.HTTP_CONNECTION_ERROR, f"{target.method} {shown}: {type(exc).__name__}: {exc}"
        ) from None
    text = response.text
    kept = truncate(text)
    if response.status_code >= 400:
        name = E.HTTP_5XX if response.status_code >= 500 else E.HTTP_4XX
        cause = f"HTTP {response.status_code} from {target.method} {shown}: {text[:500]}"
        raise StepError(name, cause, stdout=kept)
    try:
        output = response.json() if text.strip() else None
    except ValueError:
        output = text
    return TargetResult(output, stdout=kept)


def http_target_urls(definition: Rule | Workflow) -> list[tuple[str, str]]:
    """``(field, url)`` of every HTTP target of a rule or workflow (``targets.0.url``,
    ``steps.1.target.url``), for the definition-time check of :func:`vigil.net.check_urls`."""
    if isinstance(definition, Rule):
        return [
            (f"targets.{i}.url", t.url)
            for i, t in enumerate(definition.targets)
            if isinstance(t, HttpTarget)
        ]
    return [
        (f"steps.{i}.target.url", s.target.url)
        for i, s in enumerate(definition.steps)
        if isinstance(s.target, HttpTarget)
    ]
