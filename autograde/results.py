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
    """The student's file, relative to the checkout."""
    line: int | None
    """1-based line in `file`; None when no one line is."""
    message: str
    """What that line has to do with the finding."""


@dataclass
class CheckResult:
    id: str
    """The rubric check's id (e.g. `dockerfile.stages`): the key in reports, the gradebook's column, the JUnit test
    name.
    """
    name: str
    """The check's title as the rubric names it, for people."""
    status: Status
    """`pass`; `fail` (the student's file or app is wrong); `skip` (not run: `--static-only`, or what it needs was not
    built or refused); `error` (the grader or the machine failed, never the student's fault).
    """
    score: int
    """Points given, 0 to `max_score`."""
    max_score: int
    """Points the rubric in effect gives this check (an instructor's override included)."""
    message: str
    """What was found, in one line: why the points were given or lost."""
    hint: str = ""
    """What to do about it, in the student's own terms (their paths, image names); empty when nothing is to be done.
    """
    file: str | None = None
    """The student's file the finding is about (e.g. `Dockerfile.prod`), relative to the checkout; None when no one
    file is.
    """
    line: int | None = None
    """1-based line in `file` the finding points at (for annotations); None when no line is."""
    duration_s: float = 0.0
    """Seconds spent grading this check from the facts (the builds and probes are in `GradingResults.timings`)."""
    # Tail of build or container output, student-controlled: print it fenced, never raw.
    log_tail: str = ""
    """The last lines of the build or container output behind the finding."""
    bonus: bool = False
    """A bonus check: its points are added to the total when it passes and are not part of the maximum."""
    places: list[Place] = field(default_factory=list)
    """Other lines of the student's files the evidence points at (e.g. the failing test), beside `file`/`line`."""

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
    """The image's id (`sha256:...`) as the engine reports it."""
    tag: str  # the grader's own tag of the image it built (in the JSON report only)
    """The tag the grader built it under (per grading run); empty when it had none."""
    size_bytes: int
    """The image's size in bytes as the engine reports it (what the size ratio compares)."""
    name: str = ""  # the image as the student's files name it (`image:` of the service, or Compose's default)
    """The image as the student's files name it, for hints in their terms."""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class Advice:
    """Zero-point advice (hadolint findings) shown next to the grade."""

    file: str
    """The file the advice is about (`Dockerfile.prod`)."""
    line: int
    """1-based line in `file`."""
    code: str
    """The linter's rule code (e.g. `DL3008`)."""
    level: str
    """The linter's level: `error`, `warning`, `info` or `style`."""
    message: str
    """The linter's own words."""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class GradingResults:
    checks: list[CheckResult]
    """One result per rubric check, in rubric order."""
    static_only: bool = False
    """Graded from the files alone (`--static-only`): runtime checks are `skip`, nothing was built."""
    dev_image: ImageFacts | None = None
    """The dev image built from `docker-compose.yml`, when its build succeeded."""
    prod_image: ImageFacts | None = None
    """The prod image built from the student's `Dockerfile.prod`, when its build succeeded."""
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds per phase of the grade (builds, `up`, probes, inspection, cleanup), for speed work."""
    advice: list[Advice] = field(default_factory=list)
    """Zero-point advice shown beside the grade (hadolint findings for `Dockerfile.prod`)."""
    # Files of the lab that differ from the template this grader shipped with.
    modified_files: list[str] = field(default_factory=list)
    """Given files (the app, its tests, the dev files, the workflow, the grader) that differ from the template version
    the student started from: reported to the instructor, never graded.
    """
    source: dict[str, str] = field(default_factory=dict)
    """What was graded: `graded_at` (ISO time), and when known `repository`, `commit`, `ref`, `actor`, `run_id` (from
    GitHub Actions' variables, the commit from git otherwise).
    """
    grader: dict[str, Any] = field(default_factory=dict)
    """How it was graded: `version`, `started_at`, `rubric` (where the rubric in effect came from), `thresholds`,
    `points` per check, `duration_s`, `image_names` (the dev and prod images as the student's files name them), and
    with a runtime session `project` (the Compose project label of everything it started), `host_port`,
    `host_port_note`, `removed_leftovers`.
    """
    error: str | None = None
    """Why the grade is incomplete for a reason that is not the student's (engine, machine, interruption); None when
    there is none.
    """
    disagreements: list[dict[str, Any]] = field(default_factory=list)
    """Checks whose text rules and the evidence (the built image, the build log) gave different verdicts: `id`,
    `text` and `evidence` verdicts; the evidence's verdict is the grade.
    """
    rubric: dict[str, Any] = field(default_factory=dict)
    """The rubric in effect (`Rubric.to_dict()`: source, fingerprint, rows, thresholds); {} in older reports."""
    warnings: list[str] = field(default_factory=list)
    """The grader's set-up warnings for the instructor (e.g. the workflow's reporter block and the rubric disagree)."""

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
            "disagreements": list(self.disagreements),
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
            disagreements=list(data.get("disagreements") or []),
        )
