"""Rules, targets and workflows as pydantic models (the ``actions:`` part of vigil.yaml).

A target's kind is given by ``type`` or, when that is left out, by its defining key
(``command``, ``entry_point``, ``url``, ``workflow``):

>>> rule = Rule.model_validate({
...     "name": "retrain-on-drift",
...     "pattern": {"kind": ["concept_drift"]},
...     "targets": [{"workflow": "retrain"}, {"command": ["echo", "drift"]}]})
>>> [t.type for t in rule.targets]
['workflow', 'command']
>>> wf = Workflow.model_validate({"name": "retrain", "steps": [
...     {"name": "train", "target": {"command": "python train.py"},
...      "retry": [{"error_equals": ["States.ALL"], "max_attempts": 2}]},
...     {"name": "deploy", "target": {"entry_point": "mypkg.deploy:main"}}]})
>>> wf.next_of(wf.step("train")), wf.next_of(wf.step("deploy"))
('deploy', None)
>>> Workflow.model_validate({"name": "w", "steps": [
...     {"name": "a", "target": {"url": "http://x"}, "next": "b"}]})
Traceback (most recent call last):
...
pydantic_core._pydantic_core.ValidationError: 1 validation error for Workflow
  Value error, steps[0] ('a').next: no step named 'b' (steps: a) ...
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    field_validator,
    model_validator,
)

from vigil.actions import errors as E
from vigil.actions.errors import StepNotFoundError, WorkflowNotFoundError
from vigil.actions.inputs import InputSettings
from vigil.events.patterns import CompiledPattern, compile_pattern, validate_pattern
from vigil.events.severity import DEFAULT_SEVERITY, Severity, parse_severity
from vigil.store.secrets import NO_SECRETS, SecretFields, has_ref

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,254}$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_name(value: str, what: str) -> str:
    if not _NAME.match(value):
        raise ValueError(f"{what} {value!r}: expected 1-255 letters, digits, '_', '.', ':' or '-'")
    return value


class CommandTarget(InputSettings):
    """Run a program. A string runs through ``/bin/sh -c``; a list runs as is.

    The input arrives as JSON on stdin and in ``$VIGIL_INPUT``; stdout, when it is JSON (or its
    last line is), is the output, else the output is stdout's text. Secret: every ``env`` value.
    """

    secrets: ClassVar[SecretFields] = SecretFields(maps=("env",))
    type: Literal["command"] = "command"
    command: list[str] | str
    timeout_seconds: float = Field(300, gt=0)
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None

    @field_validator("command")
    @classmethod
    def _not_empty(cls, value: list[str] | str) -> list[str] | str:
        if not value or (isinstance(value, str) and not value.strip()):
            raise ValueError("command: expected a program to run, got nothing")
        return value


class PythonTarget(InputSettings):
    """Call ``module:function`` (dotted attributes allowed) with the input as its one argument."""

    type: Literal["python"] = "python"
    entry_point: str

    @field_validator("entry_point")
    @classmethod
    def _entry_point(cls, value: str) -> str:
        module, sep, attr = value.partition(":")
        if not sep or not module or not attr:
            raise ValueError(f"entry_point {value!r}: expected 'module:function'")
        return value


class HttpTarget(InputSettings):
    """Send the input as a JSON body; the JSON answer (or its text) is the output.

    Secret: every ``headers`` value, the URL's userinfo and query values.
    """

    secrets: ClassVar[SecretFields] = SecretFields(maps=("headers",), urls=("url",))
    type: Literal["http"] = "http"
    url: str
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "POST"
    headers: dict[str, str] = Field(default_factory=dict)
    timeout_seconds: float = Field(30, gt=0)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if has_ref(value) and value.startswith("${"):  # resolved when stored by vigil apply
            return value
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"url {value!r}: expected an http:// or https:// URL")
        return value


class WorkflowTarget(InputSettings):
    """Run the named workflow with the input; its output is this target's output."""

    type: Literal["workflow"] = "workflow"
    workflow: str


class TopicTarget(InputSettings):
    """Publish a notification to the named topic (EventBridge's SNS target): its subscribers
    get it through the durable outbox, routed by ``severity`` (their ``min_severity`` and
    filter policies on the ``severity`` attribute). ``severity`` defaults to the rule's;
    ``subject`` to the event's detail type; the body is the target's input when an input
    setting shapes it (a string as is, other data as JSON), else the event's detail as JSON.
    The output: ``{"message_id", "deliveries"}`` (the number of deliveries queued)."""

    type: Literal["topic"] = "topic"
    topic: str
    subject: str | None = Field(None, max_length=100)
    severity: Severity | None = None

    @field_validator("topic")
    @classmethod
    def _topic(cls, value: str) -> str:
        return _check_name(value, "topic name")

    @field_validator("severity", mode="before")
    @classmethod
    def _severity(cls, value: Any) -> Any:
        return value if value is None else parse_severity(value, "topic target severity")


_KEYS = {
    "command": "command", "entry_point": "python", "url": "http", "workflow": "workflow",
    "topic": "topic",
}

#: The secret settings of each target type, as the target models declare them.
TARGET_SECRETS: dict[str, SecretFields] = {
    "command": CommandTarget.secrets,
    "python": NO_SECRETS,
    "http": HttpTarget.secrets,
    "workflow": NO_SECRETS,
    "topic": NO_SECRETS,
}


def _target_kind(value: Any) -> str | None:
    if isinstance(value, BaseModel):
        return getattr(value, "type", None)
    if isinstance(value, Mapping):
        if "type" in value:
            return str(value["type"])
        found = [kind for key, kind in _KEYS.items() if key in value]
        return found[0] if len(found) == 1 else None
    return None


Target = Annotated[
    Annotated[CommandTarget, Tag("command")]
    | Annotated[PythonTarget, Tag("python")]
    | Annotated[HttpTarget, Tag("http")]
    | Annotated[WorkflowTarget, Tag("workflow")]
    | Annotated[TopicTarget, Tag("topic")],
    Discriminator(
        _target_kind,
        custom_error_type="target_type",
        custom_error_message=(
            "expected a target with type command, python, http, workflow or topic "
            "(or exactly one of the keys command, entry_point, url, workflow, topic)"
        ),
    ),
]


def _check_error_list(names: list[str], what: str) -> list[str]:
    if not names:
        raise ValueError(f"{what}.error_equals: expected at least one error name")
    if E.ALL in names and len(names) > 1:
        raise ValueError(f"{what}.error_equals: States.ALL must appear alone")
    return names


class Retrier(_Model):
    """Step Functions' ``Retry`` entry: the n-th retry waits
    ``min(interval_seconds * backoff_rate ** (n - 1), max_delay_seconds)``, or with FULL jitter
    a uniform draw in ``[0, that]``; ``max_attempts`` is the number of retries (0: none)."""

    error_equals: list[str]
    interval_seconds: float = Field(1, ge=0)
    max_attempts: int = Field(3, ge=0)
    backoff_rate: float = Field(2.0, ge=1.0)
    max_delay_seconds: float | None = Field(None, gt=0)
    jitter: Literal["FULL", "NONE"] = "NONE"

    @field_validator("error_equals")
    @classmethod
    def _errors(cls, value: list[str]) -> list[str]:
        return _check_error_list(value, "retry")

    def delay(self, retry: int) -> float:
        """The wait before retry number ``retry`` (1-based), before jitter.

        >>> r = Retrier(error_equals=["States.ALL"], interval_seconds=2, max_delay_seconds=5)
        >>> [r.delay(n) for n in (1, 2, 3)]
        [2.0, 4.0, 5.0]
        """
        wait = float(self.interval_seconds) * float(self.backoff_rate) ** (retry - 1)
        return min(wait, self.max_delay_seconds) if self.max_delay_seconds else wait


class Catcher(_Model):
    """Step Functions' ``Catch`` entry: when retries are exhausted, go to ``next`` with
    ``{"Error": name, "Cause": cause}`` as its input (``result_path`` ``"$.error"`` instead
    places that object into a copy of the step's input)."""

    error_equals: list[str]
    next: str
    result_path: str | None = None

    @field_validator("error_equals")
    @classmethod
    def _errors(cls, value: list[str]) -> list[str]:
        return _check_error_list(value, "catch")

    @field_validator("result_path")
    @classmethod
    def _path(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^\$(\.[A-Za-z0-9_-]+)*$", value):
            raise ValueError(f"result_path {value!r}: expected '$' or '$.key.key'")
        return value


class Step(_Model):
    """One step: a target, its retriers and catchers, and where to go next.

    Without ``next`` or ``end`` a step goes to the following one in the list (the last ends).
    ``condition``, an event pattern matched against the step's input, skips the step (its input
    passes through unchanged) when it does not match: "deploy only if better".
    """

    name: str
    target: Target
    retry: list[Retrier] = Field(default_factory=list)
    catch: list[Catcher] = Field(default_factory=list)
    next: str | None = None
    end: bool = False
    condition: dict[str, Any] | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _check_name(value, "step name")

    @field_validator("condition")
    @classmethod
    def _condition(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            validate_pattern(value, "condition")
        return value

    @model_validator(mode="after")
    def _check(self) -> Step:
        if self.target.has_input():
            raise ValueError(
                f"step {self.name!r}: input, input_path and input_transformer belong to rule "
                "targets, not to workflow steps"
            )
        if self.next is not None and self.end:
            raise ValueError(f"step {self.name!r}: set next or end, not both")
        lists: list[tuple[str, Sequence[Retrier | Catcher]]] = [
            ("retry", self.retry),
            ("catch", self.catch),
        ]
        for field, entries in lists:
            for i, entry in enumerate(entries[:-1]):
                if E.ALL in entry.error_equals:
                    raise ValueError(
                        f"step {self.name!r}: {field}[{i}]: States.ALL must be in the last entry"
                    )
        return self


class Workflow(_Model):
    """A named list of steps; the first step starts. Loops are allowed and bounded by
    ``max_steps`` transitions (then the run fails with ``Vigil.MaxStepsExceeded``)."""

    name: str
    steps: list[Step] = Field(min_length=1)
    max_steps: int = Field(1000, ge=1)
    description: str | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _check_name(value, "workflow name")

    @model_validator(mode="after")
    def _check(self) -> Workflow:
        names = [s.name for s in self.steps]
        seen: set[str] = set()
        for i, step in enumerate(self.steps):
            if step.name in seen:
                raise ValueError(f"steps[{i}]: duplicate step name {step.name!r}")
            seen.add(step.name)
        known = ", ".join(names)
        for i, step in enumerate(self.steps):
            refs = [("next", step.next)] + [
                (f"catch[{j}].next", c.next) for j, c in enumerate(step.catch)
            ]
            for field, ref in refs:
                if ref is not None and ref not in seen:
                    raise ValueError(
                        f"steps[{i}] ({step.name!r}).{field}: no step named {ref!r} "
                        f"(steps: {known})"
                    )
        return self

    def step(self, name: str) -> Step:
        """The step called ``name``; :class:`StepNotFoundError` when there is none."""
        for step in self.steps:
            if step.name == name:
                return step
        raise StepNotFoundError(f"workflow {self.name!r} has no step named {name!r}")

    def next_of(self, step: Step) -> str | None:
        """The step after ``step`` on success, or ``None`` when the workflow ends there."""
        if step.end:
            return None
        if step.next is not None:
            return step.next
        index = self.steps.index(step)
        return self.steps[index + 1].name if index + 1 < len(self.steps) else None

    def workflow_refs(self) -> set[str]:
        """Names of the workflows its steps call."""
        return {s.target.workflow for s in self.steps if isinstance(s.target, WorkflowTarget)}


class Rule(InputSettings):
    """When an event matches ``pattern``, start every target with the event as input.

    A target's ``input``, ``input_path`` or ``input_transformer`` (EventBridge's ``Input``,
    ``InputPath``, ``InputTransformer``) replaces the event as its input; the rule's own
    applies to the targets that set none.

    >>> rule = Rule.model_validate({"name": "r", "pattern": {"source": ["aws.codebuild"]},
    ...     "input_transformer": {"InputPathsMap": {"id": "$.detail.build-id"},
    ...                           "InputTemplate": "build <id> failed"},
    ...     "targets": [{"url": "http://x"}, {"url": "http://y", "input_path": "$.detail"}]})
    >>> event = {"source": "aws.codebuild", "detail": {"build-id": "b1"}}
    >>> rule.matches(event), [rule.input_for(t, event) for t in rule.targets]
    (True, ['build b1 failed', {'build-id': 'b1'}])
    """

    name: str
    pattern: dict[str, Any]
    targets: list[Target] = Field(min_length=1)
    enabled: bool = True
    description: str | None = None
    severity: Severity = DEFAULT_SEVERITY  # of the notifications it sends (vigil.events.severity)
    _compiled: CompiledPattern = PrivateAttr()

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _check_name(value, "rule name")

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, value: dict[str, Any]) -> dict[str, Any]:
        validate_pattern(value)
        return value

    @field_validator("severity", mode="before")
    @classmethod
    def _severity(cls, value: Any) -> Any:
        return parse_severity(value, "rule severity")

    def model_post_init(self, context: Any, /) -> None:
        self._compiled = compile_pattern(self.pattern)

    @property
    def compiled(self) -> CompiledPattern:
        """The rule's pattern, compiled once."""
        return self._compiled

    def matches(self, event: Mapping[str, Any]) -> bool:
        """Whether ``event`` (plain JSON data) matches the rule's pattern."""
        return self._compiled.fn(event)

    def input_for(self, target: Target, event: Mapping[str, Any]) -> Any:
        """What ``target`` receives for ``event``: its own input setting, else the rule's,
        else the event."""
        shaper: InputSettings = target if target.has_input() else self
        return shaper.shape(event, self.name)


def check_references(rules: Iterable[Rule], workflows: Mapping[str, Workflow]) -> None:
    """Raise :class:`WorkflowNotFoundError` when a rule or step names an undefined workflow.

    >>> rule = Rule(name="r", pattern={}, targets=[WorkflowTarget(workflow="nope")])
    >>> check_references([rule], {})
    Traceback (most recent call last):
    ...
    vigil.actions.errors.WorkflowNotFoundError: [workflow_not_found] rule 'r': \
targets[0]: no workflow named 'nope' (workflows: none)
    """
    known = ", ".join(sorted(workflows)) or "none"
    for rule in rules:
        for i, target in enumerate(rule.targets):
            if isinstance(target, WorkflowTarget) and target.workflow not in workflows:
                raise WorkflowNotFoundError(
                    f"rule {rule.name!r}: targets[{i}]: no workflow named "
                    f"{target.workflow!r} (workflows: {known})"
                )
    for wf in workflows.values():
        for step in wf.steps:
            if isinstance(step.target, WorkflowTarget) and step.target.workflow not in workflows:
                raise WorkflowNotFoundError(
                    f"workflow {wf.name!r}: step {step.name!r}: no workflow named "
                    f"{step.target.workflow!r} (workflows: {known})"
                )


def workflow_closure(name: str, workflows: Mapping[str, Workflow]) -> dict[str, Workflow]:
    """``name`` and every workflow it calls, transitively.

    >>> wf = Workflow(name="a", steps=[Step(name="s", target=WorkflowTarget(workflow="b"))])
    >>> sorted(workflow_closure("a", {"a": wf, "b": wf.model_copy(update={"name": "b",
    ...     "steps": [Step(name="t", target=CommandTarget(command="true"))]})}))
    ['a', 'b']
    """
    out: dict[str, Workflow] = {}
    todo = [name]
    while todo:
        current = todo.pop()
        if current in out:
            continue
        if current not in workflows:
            raise WorkflowNotFoundError(f"no workflow named {current!r}")
        out[current] = workflows[current]
        todo.extend(out[current].workflow_refs())
    return out
