"""The points ledger: one CheckResult per rubric check, gathered in GradingResults."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["pass", "fail", "skip", "error"]
STATUSES: tuple[Status, ...] = ("pass", "fail", "skip", "error")
SCHEMA = "autograde-report/1"


def megabytes(size_bytes: float) -> float:
    """The one rounding of every size and limit the reports show (MB, one decimal)."""
    return round(size_bytes / 1_000_000, 1)


@dataclass(frozen=True)
class Place:
    """Another line of the student's files that the check's evidence points at (e.g. the failing test)."""

    file: str
    line: int | None
    message: str


@dataclass
class CheckResult:
    id: str
    name: str
    status: Status
    score: int
    max_score: int
    message: str
    hint: str = ""
    file: str | None = None
    line: int | None = None
    duration_s: float = 0.0
    # Tail of build or container output, student-controlled: print it fenced, never raw.
    log_tail: str = ""
    # A bonus check's points are added to the total when it passes and are not part of the maximum.
    bonus: bool = False
    places: list[Place] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckResult:
        names = {f.name for f in dataclasses.fields(cls)}
        fields = {k: v for k, v in data.items() if k in names}
        fields["places"] = [Place(**p) for p in data.get("places") or []]
        return cls(**fields)


@dataclass
class ImageFacts:
    id: str
    tag: str  # the grader's own tag of the image it built (in the JSON report only)
    size_bytes: int
    name: str = ""  # the image as the student's files name it (`image:` of the service, or Compose's default)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class Advice:
    """Zero-point advice (hadolint findings) shown next to the grade."""

    file: str
    line: int
    code: str
    level: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class GradingResults:
    checks: list[CheckResult]
    static_only: bool = False
    dev_image: ImageFacts | None = None
    prod_image: ImageFacts | None = None
    timings: dict[str, float] = field(default_factory=dict)
    advice: list[Advice] = field(default_factory=list)
    # Files of the lab that differ from the template this grader shipped with.
    modified_files: list[str] = field(default_factory=list)
    source: dict[str, str] = field(default_factory=dict)
    grader: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    # The rubric in effect (Rubric.to_dict(): source, fingerprint, rows, thresholds); {} in older reports.
    rubric: dict[str, Any] = field(default_factory=dict)
    # The grader's warnings for the instructor (e.g. the workflow's reporter block disagrees with the rubric).
    warnings: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(c.score for c in self.checks)

    @property
    def possible(self) -> int:
        """The maximum: bonus checks are not part of it (a total may exceed it)."""
        return sum(c.max_score for c in self.checks if not c.bonus)

    @property
    def ratio(self) -> float | None:
        if self.dev_image and self.prod_image and self.dev_image.size_bytes:
            return self.prod_image.size_bytes / self.dev_image.size_bytes
        return None

    @property
    def full_marks(self) -> bool:
        return self.total >= self.possible and all(c.status == "pass" for c in self.checks if not c.bonus)

    @property
    def has_error(self) -> bool:
        return self.error is not None or any(c.status == "error" for c in self.checks)

    def get(self, check_id: str) -> CheckResult | None:
        return next((c for c in self.checks if c.id == check_id), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "score": self.total,
            "max_score": self.possible,
            "static_only": self.static_only,
            "error": self.error,
            "checks": [c.to_dict() for c in self.checks],
            "images": {
                "dev": self.dev_image.to_dict() if self.dev_image else None,
                "prod": self.prod_image.to_dict() if self.prod_image else None,
                "ratio": None if self.ratio is None else round(self.ratio, 4),
            },
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            "advice": [a.to_dict() for a in self.advice],
            "modified_files": list(self.modified_files),
            "source": dict(self.source),
            "grader": dict(self.grader),
            "rubric": dict(self.rubric),
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GradingResults:
        images = data.get("images") or {}

        def image(key: str) -> ImageFacts | None:
            raw = images.get(key)
            if not raw:
                return None
            known = {f.name for f in dataclasses.fields(ImageFacts)}
            return ImageFacts(**{k: v for k, v in raw.items() if k in known})

        return cls(
            checks=[CheckResult.from_dict(c) for c in data["checks"]],
            static_only=bool(data.get("static_only", False)),
            dev_image=image("dev"),
            prod_image=image("prod"),
            timings=dict(data.get("timings") or {}),
            advice=[Advice(**a) for a in data.get("advice") or []],
            modified_files=list(data.get("modified_files") or []),
            source=dict(data.get("source") or {}),
            grader=dict(data.get("grader") or {}),
            error=data.get("error"),
            rubric=dict(data.get("rubric") or {}),
            warnings=[str(w) for w in data.get("warnings") or []],
        )
