"""Capture records and ground-truth records (one JSON object per line)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from vigil.formats._base import Artifact

Encoding = Literal["CSV", "JSON", "BASE64"]


class CaptureContent(Artifact):
    observed_content_type: str | None = Field(default=None, alias="observedContentType")
    mode: Literal["INPUT", "OUTPUT"]
    data: str
    encoding: Encoding


class CaptureData(Artifact):
    endpoint_input: CaptureContent | None = Field(default=None, alias="endpointInput")
    endpoint_output: CaptureContent | None = Field(default=None, alias="endpointOutput")
    batch_transform_output: CaptureContent | None = Field(
        default=None, alias="batchTransformOutput"
    )


class EventMetadata(Artifact):
    event_id: str = Field(alias="eventId")
    inference_id: str | None = Field(default=None, alias="inferenceId")
    inference_time: str | None = Field(default=None, alias="inferenceTime")
    custom_attributes: list[str] | None = Field(default=None, alias="customAttributes")


class CaptureRecord(Artifact):
    """One line of a SageMaker data-capture file."""

    capture_data: CaptureData = Field(alias="captureData")
    event_metadata: EventMetadata = Field(alias="eventMetadata")
    event_version: str = Field(default="0", alias="eventVersion")


class GroundTruthData(Artifact):
    data: str
    encoding: Encoding


class GroundTruthMetadata(Artifact):
    event_id: str = Field(alias="eventId")


class GroundTruthRecord(Artifact):
    """One line of a SageMaker ground-truth file."""

    ground_truth_data: GroundTruthData = Field(alias="groundTruthData")
    event_metadata: GroundTruthMetadata = Field(alias="eventMetadata")
    event_version: str = Field(default="0", alias="eventVersion")
