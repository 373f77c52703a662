"""Vigil's exception tree.

Every error Vigil raises derives from :class:`VigilError` and carries a stable ``code`` that
appears in its message (``[not_found] no schedule named 'x'``), in the API's error body
(``{"error": {"code": ..., "message": ...}}``) and in the docs. Errors also subclass the
built-in exception a caller would already catch (``ValueError`` for bad input or settings,
``LookupError`` for something missing), so ``except ValueError`` keeps working. A code
belongs to one class; a subclass without a code of its own is a narrower kind of its
parent's error and shows the parent's code. The tree (class, code, module, other bases),
which ``tests/test_errors.py`` compares with the classes the code defines::

    VigilError                         vigil_error           vigil.errors
    ├── ActionError                    action_error          vigil.actions.errors
    │   ├── ActionSpecError            action_spec           vigil.actions.errors           also ConfigError
    │   │   ├── StepNotFoundError      step_not_found        vigil.actions.errors           also LookupError
    │   │   ├── TopicNotFoundError     topic_not_found       vigil.actions.errors           also LookupError
    │   │   └── WorkflowNotFoundError  workflow_not_found    vigil.actions.errors           also LookupError
    │   ├── RunNotFoundError           action_run_not_found  vigil.actions.errors           also NotFoundError
    │   └── StepError                  step_failed           vigil.actions.errors
    ├── ApiError                       api_error             vigil.server.errors
    ├── BaselineMismatchError          baseline_mismatch     vigil.errors                   also ValueError
    ├── BiasMetricError                bias_metric           vigil.checks.bias.errors       also ValueError
    │   └── SelectionError             bias_metric           vigil.checks.bias.errors
    ├── BodyTooLargeError              payload_too_large     vigil.server.limits
    ├── CaptureBodyTypeError           capture_body_type     vigil.capture.errors           also TypeError
    ├── CommitterClosedError           committer_closed      vigil.capture.errors           also RuntimeError
    ├── ConfigError                    config_error          vigil.errors                   also ValueError
    │   ├── CodeNotAllowedError        code_not_allowed      vigil.store.code_policy
    │   ├── ConfigFileError            config_error          vigil.app.config
    │   ├── DataDirectoryError         data_directory        vigil.store.errors
    │   ├── InputTransformerError      input_transformer     vigil.events.transform
    │   ├── KeyedConfigError           config_error          vigil.app.config.base
    │   ├── LocationNotAllowedError    location_not_allowed  vigil.store.locations
    │   ├── MetricDefinitionError      metric_definition     vigil.jobs.definitions
    │   ├── PatternError               event_pattern         vigil.events.pattern_compile
    │   ├── RuleSyntaxError            config_error          vigil.alerts.alarms.rule
    │   ├── SecretKeyError             secret_key            vigil.store.secrets
    │   ├── SecretRefError             secret_ref            vigil.store.secrets
    │   └── SubscriptionTakenError     subscription_taken    vigil.alerts.delivery.subscription
    ├── CsrfRejectedError              csrf_rejected         vigil.server.ui.session        also PermissionError
    ├── DatabaseURLError               database_url          vigil.store.errors             also ValueError
    ├── DemoError                      demo_error            vigil.demo                     also RuntimeError
    ├── EngineError                    engine_error          vigil.errors                   also RuntimeError
    ├── FormatError                    format_error          vigil.errors                   also ValueError
    │   ├── CgroupFormatError          cgroup_format         vigil.resources.cgroup
    │   ├── EnvelopeError              event_envelope        vigil.events.envelope
    │   └── ExpositionError            exposition_error      vigil.metrics.exposition_parse
    ├── HostNotResolvedError           host_not_resolved     vigil.net.http                 also httpcore.ConnectError
    ├── InUseError                     in_use                vigil.app.lifecycle            also RuntimeError
    ├── InputError                     input_error           vigil.errors                   also ValueError
    │   ├── BiasReportError            bias_report           vigil.checks.bias.errors
    │   ├── EmptyInputError            empty_input           vigil.errors
    │   ├── ExperimentExistsError      experiment_exists     vigil.app.training_mlflow
    │   ├── JobStatusError             job_status            vigil.jobs.lifecycle
    │   ├── ParamConflictError         param_conflict        vigil.app.training
    │   └── PreprocessorError          preprocessor_error    vigil.io.capture.preprocessor
    ├── LeaseLostError                 lease_lost            vigil.store.errors             also RuntimeError
    ├── MigrationError                 migration_failed      vigil.store.errors             also RuntimeError
    ├── ModelError                     model_error           vigil.analysis.explain.model   also RuntimeError
    ├── NotFoundError                  not_found             vigil.errors                   also LookupError
    │   ├── DashboardNotFoundError     dashboard_not_found   vigil.app.dashboards
    │   ├── EndpointNotFoundError      endpoint_not_found    vigil.app.endpoint_queries
    │   ├── ExecutionNotFoundError     execution_not_found   vigil.store.errors
    │   ├── ExperimentNotFoundError    experiment_not_found  vigil.app.training_mlflow
    │   ├── OutputNotFoundError        output_not_found      vigil.app.executions
    │   └── TrainingJobNotFoundError   job_not_found         vigil.app.training
    ├── ObjectStoreError               object_store          vigil.locations                also OSError
    │   └── ObjectNotFoundError        object_not_found      vigil.locations                also FileNotFoundError
    ├── OutboundRefusedError           outbound_refused      vigil.net.errors               also PermissionError
    ├── PoolStoppedError               pool_stopped          vigil.app.pool                 also RuntimeError
    ├── RemoteError                    remote_error          vigil.cli.remote
    ├── SchemaOutdatedError            schema_outdated       vigil.store.errors             also RuntimeError
    ├── SchemaTooNewError              schema_too_new        vigil.store.errors             also RuntimeError
    ├── ScopeRefusedError              scope_refused         vigil.server.ui.session        also PermissionError
    ├── SignInRequiredError            sign_in_required      vigil.server.ui.session        also PermissionError
    ├── SpoolBusyError                 spool_busy            vigil.agent.spool              also RuntimeError
    ├── TelemetrySendError             telemetry_send        vigil.capture.errors           also RuntimeError
    └── TimeBudgetError                time_budget           vigil.analysis.explain.budget  also TimeoutError

Two families carry codes of their own beside the class's: :class:`~vigil.server.errors.ApiError`
holds the HTTP API's codes (``bad_request``, ``unauthorized``, ``forbidden``, ``not_found``,
``conflict``, ``payload_too_large``, ``validation_error``, ...), and
:class:`~vigil.actions.errors.StepError` reads ``"{error}: {cause}"`` with a Step Functions
error name (``States.Timeout``, ``Command.NonZeroExit``) where others put their code.
pydantic models (vigil.yaml specs, alarm definitions, API bodies) raise pydantic's
``ValidationError`` when built directly; Vigil's loaders turn it into a
:class:`ConfigError` naming the file, line and field, and the API into a 422 naming the field.
"""  # noqa: E501 (the tree is a table: one class a line)

from __future__ import annotations

from typing import Any


class VigilError(Exception):
    """Root of every error Vigil raises on purpose."""

    code: str = "vigil_error"

    def __init__(self, message: str) -> None:
        super().__init__(f"[{self.code}] {message}")
        self.message = message

    def __reduce__(self) -> str | tuple[Any, ...]:
        """Pickle by the message, not the coded text, so an error sent back from a worker
        process (or a Spark task) reads as it was raised, its code once.

        >>> import pickle
        >>> str(pickle.loads(pickle.dumps(NotFoundError("no schedule named 'x'"))))
        "[not_found] no schedule named 'x'"
        """
        if type(self).__init__ is VigilError.__init__:
            return (type(self), (self.message,), self.__dict__)
        return super().__reduce__()


class InputError(VigilError, ValueError):
    """Input data that cannot be read or holds nothing usable."""

    code = "input_error"


class EmptyInputError(InputError):
    """An input that holds no rows."""

    code = "empty_input"


class FormatError(VigilError, ValueError):
    """An artifact (statistics.json, constraints.json, ...) that does not match its format."""

    code = "format_error"


class BaselineMismatchError(VigilError, ValueError):
    """A baseline that cannot be applied to the data (for example no shared column)."""

    code = "baseline_mismatch"


class ConfigError(VigilError, ValueError):
    """An option or setting with a value outside what is accepted."""

    code = "config_error"


class EngineError(VigilError, RuntimeError):
    """An analysis engine (Spark) that could not start or whose job failed."""

    code = "engine_error"


class NotFoundError(VigilError, LookupError):
    """A named object (schedule, endpoint, execution, workflow, ...) that does not exist."""

    code = "not_found"
