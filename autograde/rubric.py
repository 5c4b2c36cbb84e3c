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


DEFAULT_THRESHOLDS: dict[str, float] = {"size_ratio_max": 0.5}


class RubricError(Exception):
    """An instructor's rubric file is invalid; the message says where and why."""


def __getattr__(name: str) -> Any:
    """`DEFAULT_ITEMS`: the rubric as the checks declare it (`@check` next to each check function)."""
    if name == "DEFAULT_ITEMS":
        from autograde.checks import default_items

        return default_items()
    raise AttributeError(name)


def _default_items() -> tuple[RubricItem, ...]:
    from autograde.checks import default_items

    return default_items()


@dataclass(frozen=True)
class Rubric:
    items: tuple[RubricItem, ...] = dataclasses.field(default_factory=_default_items)
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

    defaults = _default_items()
    ids = [i.id for i in defaults]
    points = data.get("points") or {}
    if not isinstance(points, dict):
        raise RubricError(f"{p}: `points` must map check ids to whole numbers")
    items = []
    for item in defaults:
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
