"""``statistics.json`` of a data-quality baseline or monitoring run (SageMaker's shape)."""

from __future__ import annotations

from typing import Literal

from vigil.formats._base import Artifact

InferredType = Literal["Integral", "Fractional", "String", "Unknown"]


class CommonStatistics(Artifact):
    num_present: int
    num_missing: int


class KLLBucket(Artifact):
    lower_bound: float
    upper_bound: float
    count: float


class KLLParameters(Artifact):
    c: float = 0.64
    k: float = 2048.0


class KLLSketchData(Artifact):
    parameters: KLLParameters = KLLParameters()
    data: list[list[float]] = []


class KLLDistribution(Artifact):
    buckets: list[KLLBucket] = []
    sketch: KLLSketchData = KLLSketchData()


class NumericalDistribution(Artifact):
    kll: KLLDistribution | None = None


class NumericalStatistics(Artifact):
    common: CommonStatistics
    mean: float | None = None
    sum: float | None = None
    std_dev: float | None = None
    min: float | None = None
    max: float | None = None
    distribution: NumericalDistribution | None = None


class CategoricalBucket(Artifact):
    value: str
    count: int


class CategoricalDistribution(Artifact):
    buckets: list[CategoricalBucket] = []


class StringDistribution(Artifact):
    categorical: CategoricalDistribution | None = None


class StringStatistics(Artifact):
    common: CommonStatistics
    distinct_count: float | None = None
    distribution: StringDistribution | None = None


class FeatureStatistics(Artifact):
    name: str
    inferred_type: InferredType
    numerical_statistics: NumericalStatistics | None = None
    string_statistics: StringStatistics | None = None

    @property
    def common(self) -> CommonStatistics | None:
        """The present/missing counts, whichever kind of statistics the feature has."""
        stats = self.numerical_statistics or self.string_statistics
        return stats.common if stats else None


class DatasetStatistics(Artifact):
    item_count: int


class Statistics(Artifact):
    """A whole ``statistics.json``."""

    version: int | float = 0.0
    dataset: DatasetStatistics
    features: list[FeatureStatistics] = []

    def feature(self, name: str) -> FeatureStatistics | None:
        """The statistics of one feature, or None."""
        return next((f for f in self.features if f.name == name), None)
