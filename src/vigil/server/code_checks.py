"""Definitions that would run code on the server, checked when they arrive over the API.

A rule or workflow with a command or Python target, or a schedule with a ``preprocessor``, needs
a token with the ``admin`` scope (403 ``forbidden`` otherwise) and must be allowed by the
operator's code policy (403 ``code_not_allowed`` naming the field and the setting otherwise).
The same policy is checked again when the code runs
(:mod:`vigil.actions.targets`, :mod:`vigil.monitor.windows`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from fastapi import Request

from vigil.actions.spec import CommandTarget, PythonTarget, Rule, Target, Workflow
from vigil.app.config import ScheduleSpec
from vigil.server import auth
from vigil.server.errors import ApiError
from vigil.server.state import ServerState
from vigil.store.code_policy import CodeNotAllowedError, CodePolicy

__all__ = ["check_rule", "check_schedule", "check_workflow"]


def _code_targets(
    targets: Iterable[tuple[str, Target]],
) -> list[tuple[str, CommandTarget | PythonTarget]]:
    return [(w, t) for w, t in targets if isinstance(t, (CommandTarget, PythonTarget))]


def _caller(request: Request, state: ServerState) -> tuple[str, set[str]]:
    kind, _, secret = request.headers.get("authorization", "").partition(" ")
    found = state.tokens.lookup(secret.strip()) if kind.lower() == "bearer" else None
    if found is None:  # the route's own scope dependency has let it through: cannot happen
        raise ApiError(401, "unauthorized", "unknown or revoked token")
    name, scopes = found
    return name, auth.expand_scopes(scopes.split(","))


def _require_admin(request: Request, state: ServerState, what: str) -> None:
    name, scopes = _caller(request, state)
    if "admin" not in scopes:
        raise ApiError(
            403,
            "forbidden",
            f"{what} runs code on the server: it needs a token with the 'admin' scope "
            f"(token {name!r} has {', '.join(sorted(scopes)) or 'none'})",
        )


def _check_targets(
    request: Request, state: ServerState, found: Sequence[tuple[str, CommandTarget | PythonTarget]]
) -> None:
    if not found:
        return
    where, _ = found[0]
    _require_admin(request, state, where)
    policy = CodePolicy.from_settings(state.settings)
    try:
        for where, target in found:
            if isinstance(target, CommandTarget):
                policy.command_executable(target.command, cwd=target.cwd, field=f"{where}.command")
                policy.check_env(target.env, field=f"{where}.env")
            else:
                policy.python_file(target.entry_point, field=f"{where}.entry_point")
    except CodeNotAllowedError as exc:
        raise ApiError(403, "code_not_allowed", exc.message) from None


def check_rule(request: Request, state: ServerState, rule: Rule) -> None:
    """Refuse a rule whose command/Python targets the caller or the policy may not define."""
    targets = [(f"targets[{i}]", t) for i, t in enumerate(rule.targets)]
    _check_targets(request, state, _code_targets(targets))


def check_workflow(request: Request, state: ServerState, workflow: Workflow) -> None:
    """Refuse a workflow whose command/Python steps the caller or the policy may not define."""
    steps = [(f"steps[{i}].target", s.target) for i, s in enumerate(workflow.steps)]
    _check_targets(request, state, _code_targets(steps))


def check_schedule(request: Request, state: ServerState, spec: ScheduleSpec) -> None:
    """Refuse a schedule whose ``config.preprocessor`` or ``config.model`` (a model file or
    Python entry point; a serving endpoint's URL needs nothing more) the caller or the policy
    may not set."""
    model = (spec.config or {}).get("model")
    if isinstance(model, str) and not model.startswith(("http://", "https://")):
        _require_admin(request, state, "config.model")
        try:
            CodePolicy.from_settings(state.settings).model_reference(model, field="config.model")
        except CodeNotAllowedError as exc:
            raise ApiError(403, "code_not_allowed", exc.message) from None
    preprocessor = (spec.config or {}).get("preprocessor")
    if preprocessor is None:
        return
    _require_admin(request, state, "config.preprocessor")
    try:
        CodePolicy.from_settings(state.settings).preprocessor_path(
            str(preprocessor), field="config.preprocessor"
        )
    except CodeNotAllowedError as exc:
        raise ApiError(403, "code_not_allowed", exc.message) from None
