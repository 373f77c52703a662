"""Error names a step can fail with, and the exceptions of the actions package.

Step errors follow AWS Step Functions: an error is a *name* plus a human-readable *cause*.
Retriers and catchers select errors by name (``error_equals``):

================================  ===========================================================
name                              raised when
================================  ===========================================================
``States.ALL``                    (only in ``error_equals``) matches every error name
``States.TaskFailed``             (in ``error_equals``) matches every name but ``States.Timeout``;
                                  also the name of a failure without a more precise one
``States.Timeout``                a command or HTTP call ran past its ``timeout_seconds``
``Command.NonZeroExit``           a command exited non-zero; the cause holds the exit code
``Command.NotFound``              a command's program does not exist or cannot be run
``Http.Status.5xx``               an HTTP target answered 500-599
``Http.Status.4xx``               an HTTP target answered 400-499
``Http.ConnectionError``          an HTTP target could not be reached
``<ExceptionClass>``              a Python entry point raised, e.g. ``ValueError``
``Vigil.Interrupted``             the worker running the step died (see ``recover_runs``)
``Vigil.MaxStepsExceeded``        a looping workflow took more transitions than ``max_steps``
``Vigil.NoPublisher``             a topic target ran where no publisher is configured
``Vigil.PublishFailed``           a topic target's publication failed (unknown topic...)
================================  ===========================================================

A step signals its own error name:

* a Python entry point raises ``StepError("Validation.Worse", "auc 0.71 < 0.80")``;
* a command prints one JSON line ``{"error": "Validation.Worse", "cause": "..."}`` to stdout
  and exits non-zero (the last such line wins; without one the error is
  ``Command.NonZeroExit``).

>>> matches("States.ALL", "Http.Status.5xx"), matches("States.TaskFailed", "States.Timeout")
(True, False)
>>> str(StepError("Validation.Worse", "auc dropped"))
'Validation.Worse: auc dropped'
"""

from __future__ import annotations

from vigil.errors import ConfigError, NotFoundError, VigilError

ALL = "States.ALL"
TASK_FAILED = "States.TaskFailed"
TIMEOUT = "States.Timeout"
COMMAND_NON_ZERO_EXIT = "Command.NonZeroExit"
COMMAND_NOT_FOUND = "Command.NotFound"
HTTP_5XX = "Http.Status.5xx"
HTTP_4XX = "Http.Status.4xx"
HTTP_CONNECTION_ERROR = "Http.ConnectionError"
INTERRUPTED = "Vigil.Interrupted"
MAX_STEPS_EXCEEDED = "Vigil.MaxStepsExceeded"


def matches(pattern: str, error: str) -> bool:
    """Whether the ``error_equals`` entry ``pattern`` selects the error name ``error``.

    >>> matches("Command.NonZeroExit", "Command.NonZeroExit"), matches("ValueError", "KeyError")
    (True, False)
    """
    if pattern == ALL:
        return True
    if pattern == TASK_FAILED:
        return error != TIMEOUT
    return pattern == error


class ActionError(VigilError):
    """Root of the errors of the actions package."""

    code = "action_error"


class StepError(ActionError):
    """A step's failure with a Step Functions error name and a cause.

    Raise it from a Python entry point to choose the error name retriers and catchers see.
    ``stdout``/``stderr`` carry what a command printed before it failed. Its text is
    ``"{error}: {cause}"``: the Step Functions error name stands where other errors put
    their code.
    """

    code = "step_failed"

    def __init__(
        self,
        error: str,
        cause: str = "",
        *,
        stdout: str | None = None,
        stderr: str | None = None,
    ) -> None:
        super().__init__(f"{error}: {cause}" if cause else error)
        self.error = error
        self.cause = cause
        self.stdout = stdout
        self.stderr = stderr

    def __str__(self) -> str:
        return self.message


class ActionSpecError(ActionError, ConfigError):
    """A rule, workflow or event pattern that is not valid."""

    code = "action_spec"


class WorkflowNotFoundError(ActionSpecError, LookupError):
    """A workflow target naming a workflow that is not defined."""

    code = "workflow_not_found"


class TopicNotFoundError(ActionSpecError, LookupError):
    """A topic target naming a topic that is not defined."""

    code = "topic_not_found"


class StepNotFoundError(ActionSpecError, LookupError):
    """A workflow asked for a step it does not have."""

    code = "step_not_found"


class RunNotFoundError(ActionError, NotFoundError):
    """No action run has the given id."""

    code = "action_run_not_found"
