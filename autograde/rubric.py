"""The rubric: check ids, names, points and thresholds; instructors may override it in YAML."""
from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class RubricItem:
    id: str
    name: str
    points: int
    checklist: str  # item of the lab's validation checklist, "-" for none
    phase: str  # "static" or "runtime"
    passes_when: str  # may name thresholds as {size_ratio_max}: Rubric.passes_when fills in their values


DEFAULT_ITEMS: tuple[RubricItem, ...] = (
    RubricItem("dockerfile.stages", "Dockerfile.prod has a builder stage and a separate final stage", 5, "1", "static",
               "Dockerfile.prod has >= 2 stages, one named `builder`, and the last stage is not the builder"),
    RubricItem("dockerfile.builder_venv", "Builder installs app/requirements.txt into a virtual environment", 10, "2", "static",
               "the builder creates a venv and installs app/requirements.txt with the venv's pip"),
    RubricItem("dockerfile.builder_tests", "Builder runs the app's tests with pytest", 5, "3", "runtime",
               "pytest runs on app/tests in a stage the final stage depends on, a failing test fails the build, and the prod build succeeds"),
    RubricItem("dockerfile.final_slim", "Final stage uses a slim Python base image", 5, "4", "static",
               "the final stage's base is python:<tag> with `slim` or `alpine` in the tag"),
    RubricItem("dockerfile.final_copies", "Final stage copies the venv and main.py and runs the app", 10, "5", "static",
               "the final stage copies the venv and main.py from an earlier stage, puts the venv on PATH, "
               "exposes 5000 and runs main.py"),
    RubricItem("compose.services", "docker-compose.prod.yml defines web_prod and redis_prod", 5, "6", "static",
               "services web_prod and redis_prod exist; redis_prod runs a redis image"),
    RubricItem("compose.web_prod", "web_prod: port 5005, REDIS_HOST, depends_on, image name", 10, "6", "static",
               "web_prod publishes 5005 -> 5000, sets REDIS_HOST=redis_prod, depends on redis_prod and names its image"),
    RubricItem("compose.web_build", "web_prod builds from Dockerfile.prod", 5, "7", "static",
               "web_prod builds with context `.` and dockerfile `Dockerfile.prod`"),
    RubricItem("runtime.up", "Prod stack builds and both services run", 10, "8", "runtime",
               "`docker compose -f docker-compose.prod.yml up --build -d` builds and both services are running"),
    RubricItem("runtime.counter", "Hit counter on port 5005 counts in Redis", 15, "9", "runtime",
               "GET / answers 200 twice with n then n+1, Redis holds the count, and counting goes on after a restart"),
    RubricItem("images.size_ratio", "Prod image is at most half the size of the dev image", 15, "10", "runtime",
               "prod image size <= {size_ratio_max} x dev image size"),
    RubricItem("images.prod_lean", "Prod image: Flask imports, pytest does not, no tests/", 5, "-", "runtime",
               "Flask imports with the Python the app runs with, pytest does not, and the app's tests/ is absent"),
)

DEFAULT_THRESHOLDS: dict[str, float] = {"size_ratio_max": 0.5}


class RubricError(Exception):
    """An instructor's rubric file is invalid; the message says where and why."""


@dataclass(frozen=True)
class Rubric:
    items: tuple[RubricItem, ...] = DEFAULT_ITEMS
    thresholds: dict[str, float] = dataclasses.field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    source: str = "default"

    @property
    def possible(self) -> int:
        return sum(i.points for i in self.items)

    def item(self, check_id: str) -> RubricItem:
        for i in self.items:
            if i.id == check_id:
                return i
        raise KeyError(check_id)

    def passes_when(self, item: RubricItem) -> str:
        """The item's pass condition with the thresholds in effect written out (e.g. `<= 0.5 x`)."""
        return item.passes_when.format_map({k: f"{v:g}" for k, v in self.thresholds.items()})

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "max_score": self.possible,
            "checks": [{**dataclasses.asdict(i), "passes_when": self.passes_when(i)} for i in self.items],
            "thresholds": dict(self.thresholds),
        }


def _suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(choices)})"


def load_rubric(path: str | Path | None) -> Rubric:
    """Default rubric, or the default overridden by an instructor's YAML file.

    The file may have `points: {check_id: int}` and `thresholds: {name: number}`.
    """
    if path is None:
        return Rubric()
    import yaml

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise RubricError(f"{p}: cannot read the rubric file ({e.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise RubricError(f"{p}{where}: not valid YAML ({getattr(e, 'problem', e)})") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise RubricError(f"{p}: the rubric must be a mapping with `points` and/or `thresholds`")
    unknown = set(data) - {"points", "thresholds"}
    if unknown:
        key = sorted(map(str, unknown))[0]
        raise RubricError(f"{p}: unknown key {key!r}" + _suggest(key, ["points", "thresholds"]))

    ids = [i.id for i in DEFAULT_ITEMS]
    points = data.get("points") or {}
    if not isinstance(points, dict):
        raise RubricError(f"{p}: `points` must map check ids to whole numbers")
    items = []
    for item in DEFAULT_ITEMS:
        value = points.get(item.id, item.points)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise RubricError(f"{p}: points for {item.id} must be a whole number >= 0, got {value!r}")
        items.append(dataclasses.replace(item, points=value))
    for key in points:
        if key not in ids:
            raise RubricError(f"{p}: unknown check id {key!r} under `points`" + _suggest(str(key), ids))

    thresholds = dict(DEFAULT_THRESHOLDS)
    raw = data.get("thresholds") or {}
    if not isinstance(raw, dict):
        raise RubricError(f"{p}: `thresholds` must be a mapping")
    for key, value in raw.items():
        if key not in DEFAULT_THRESHOLDS:
            raise RubricError(f"{p}: unknown threshold {key!r}" + _suggest(str(key), list(DEFAULT_THRESHOLDS)))
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
            raise RubricError(f"{p}: threshold {key} must be a number in (0, 1], got {value!r}")
        thresholds[key] = float(value)
    rubric = Rubric(items=tuple(items), thresholds=thresholds, source=str(p))
    if rubric.possible == 0:
        raise RubricError(f"{p}: all checks are worth 0 points; at least one must score")
    return rubric
