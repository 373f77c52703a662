"""What SageMaker's ``preprocess_handler(inference_record)`` receives: :class:`InferenceRecord`.

Both spellings work, as in SageMaker's samples: ``endpoint_input`` and ``endpointInput``,
``event_metadata.inference_id`` and ``eventMetadata.inferenceId``, ...
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson


@dataclass(frozen=True)
class CapturedContent:
    """``inference_record.endpoint_input`` / ``endpoint_output``, as SageMaker passes them."""

    data: str | None = None
    encoding: str | None = None
    observed_content_type: str | None = None
    mode: str | None = None

    @classmethod
    def of(cls, content: Any) -> CapturedContent | None:
        if not isinstance(content, dict):
            return None
        return cls(
            content.get("data"),
            content.get("encoding"),
            content.get("observedContentType"),
            content.get("mode"),
        )

    @property
    def observedContentType(self) -> str | None:
        return self.observed_content_type


@dataclass(frozen=True)
class EventMetadata:
    """``inference_record.event_metadata``; ``custom_attribute`` is the name AWS samples use."""

    event_id: str | None = None
    inference_id: str | None = None
    inference_time: str | None = None
    custom_attributes: list[str] | None = None

    @property
    def custom_attribute(self) -> list[str] | None:
        return self.custom_attributes

    @property
    def eventId(self) -> str | None:
        return self.event_id

    @property
    def inferenceId(self) -> str | None:
        return self.inference_id

    @property
    def inferenceTime(self) -> str | None:
        return self.inference_time

    @property
    def customAttributes(self) -> list[str] | None:
        return self.custom_attributes


@dataclass(frozen=True)
class EventData:
    """``inference_record.event_data``: the ``captureData`` object (both spellings work)."""

    endpoint_input: CapturedContent | None = None
    endpoint_output: CapturedContent | None = None
    batch_transform_output: CapturedContent | None = None

    @property
    def endpointInput(self) -> CapturedContent | None:
        return self.endpoint_input

    @property
    def endpointOutput(self) -> CapturedContent | None:
        return self.endpoint_output or self.batch_transform_output

    @property
    def batchTransformOutput(self) -> CapturedContent | None:
        return self.batch_transform_output


@dataclass(frozen=True)
class InferenceRecord:
    """What ``preprocess_handler(inference_record)`` receives: one capture record.

    Mirrors SageMaker's record: ``endpoint_input`` / ``endpoint_output`` (``.data``,
    ``.encoding``, ``.observed_content_type``, ``.mode``; the data raw, as captured),
    ``event_metadata`` (``.event_id``, ``.inference_id``, ``.inference_time``,
    ``.custom_attribute``), ``event_version`` and ``event_data``; plus ``inference_id``,
    ``inference_time``, ``event_id`` shortcuts and ``record``, the parsed line.

    >>> r = InferenceRecord.of({"captureData": {"endpointInput": {"data": "1,2",
    ...     "encoding": "CSV"}}, "eventMetadata": {"eventId": "e1"}, "eventVersion": "0"})
    >>> r.endpoint_input.data, r.event_metadata.event_id, r.endpoint_output
    ('1,2', 'e1', None)
    """

    event_data: EventData
    event_metadata: EventMetadata
    event_version: str | None
    record: dict[str, Any]

    @classmethod
    def of(cls, record: dict[str, Any]) -> InferenceRecord:
        capture = record.get("captureData")
        capture = capture if isinstance(capture, dict) else {}
        meta = record.get("eventMetadata")
        meta = meta if isinstance(meta, dict) else {}
        return cls(
            EventData(
                CapturedContent.of(capture.get("endpointInput")),
                CapturedContent.of(capture.get("endpointOutput")),
                CapturedContent.of(capture.get("batchTransformOutput")),
            ),
            EventMetadata(
                meta.get("eventId"),
                meta.get("inferenceId"),
                meta.get("inferenceTime"),
                meta.get("customAttributes"),
            ),
            record.get("eventVersion"),
            record,
        )

    @property
    def endpoint_input(self) -> CapturedContent | None:
        return self.event_data.endpoint_input

    @property
    def endpoint_output(self) -> CapturedContent | None:
        return self.event_data.endpoint_output or self.event_data.batch_transform_output

    @property
    def batch_transform_output(self) -> CapturedContent | None:
        return self.event_data.batch_transform_output

    @property
    def event_id(self) -> str | None:
        return self.event_metadata.event_id

    @property
    def inference_id(self) -> str | None:
        return self.event_metadata.inference_id

    @property
    def inference_time(self) -> str | None:
        return self.event_metadata.inference_time

    def __str__(self) -> str:
        return orjson.dumps(self.record).decode()
