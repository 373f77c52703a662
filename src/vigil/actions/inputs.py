"""What a rule hands its targets: EventBridge's ``Input``, ``InputPath``, ``InputTransformer``.

>>> spec = InputTransformerSpec.model_validate(
...     {"InputPathsMap": {"s": "$.detail.status"}, "InputTemplate": '{"status": "<s>"}'})
>>> spec.compiled.render({"detail": {"status": "Failed"}}, rule_name="r")
{'status': 'Failed'}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

from vigil.events.transform import (
    InputTransformer,
    InputTransformerError,
    compile_transformer,
    input_path,
    parse_path,
)

__all__ = ["InputSettings", "InputTransformerSpec"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InputTransformerSpec(_Model):
    """EventBridge's ``InputTransformer`` (see :mod:`vigil.events.transform`); the CamelCase
    keys ``InputPathsMap`` and ``InputTemplate`` are accepted too."""

    input_paths_map: dict[str, str] = Field(
        default_factory=dict, validation_alias=AliasChoices("input_paths_map", "InputPathsMap")
    )
    input_template: str = Field(
        validation_alias=AliasChoices("input_template", "InputTemplate")
    )
    _compiled: InputTransformer = PrivateAttr()

    @model_validator(mode="after")
    def _compile(self) -> InputTransformerSpec:
        self._compiled = compile_transformer(self.input_paths_map, self.input_template)
        return self

    @property
    def compiled(self) -> InputTransformer:
        """The validated transformer."""
        return self._compiled


_INPUT_FIELDS = ("input_transformer", "input_path", "input")


class InputSettings(_Model):
    """What a rule hands its targets instead of the event: EventBridge's ``Input`` (a
    constant), ``InputPath`` (one JSONPath) or ``InputTransformer``; at most one."""

    input_transformer: InputTransformerSpec | None = Field(
        None, validation_alias=AliasChoices("input_transformer", "InputTransformer")
    )
    input_path: str | None = Field(None, validation_alias=AliasChoices("input_path", "InputPath"))
    input: Any = Field(None, validation_alias=AliasChoices("input", "Input"))

    @field_validator("input_path")
    @classmethod
    def _input_path(cls, value: str | None) -> str | None:
        if value is not None:
            parse_path(value, "input_path")
        return value

    @model_validator(mode="after")
    def _one_input(self) -> InputSettings:
        given = [name for name in _INPUT_FIELDS if getattr(self, name) is not None]
        if len(given) > 1:
            raise InputTransformerError(f"set one of {', '.join(given)}, not several")
        return self

    @model_serializer(mode="wrap")
    def _drop_unset_input(self, handler: SerializerFunctionWrapHandler) -> Any:
        out = handler(self)
        for name in _INPUT_FIELDS:
            if isinstance(out, dict) and out.get(name) is None:
                out.pop(name, None)
        return out

    def has_input(self) -> bool:
        """Whether this sets any of input, input_path, input_transformer."""
        return any(getattr(self, name) is not None for name in _INPUT_FIELDS)

    def without_input(self) -> Any:
        """A copy without input settings (the target as a run executes it)."""
        return self.model_copy(update=dict.fromkeys(_INPUT_FIELDS))

    def shape(self, event: Mapping[str, Any], rule_name: str) -> Any:
        """The input this gives a target for ``event``."""
        if self.input_transformer is not None:
            return self.input_transformer.compiled.render(event, rule_name=rule_name)
        if self.input_path is not None:
            return input_path(self.input_path, event)
        if self.input is not None:
            return self.input
        return event
