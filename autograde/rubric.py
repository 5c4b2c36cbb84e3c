"""The rubric: check ids, names, points and thresholds, and the instructor's YAML that changes them.

Data and loading only: the default rows come from the checks' own declarations, which the caller
passes in (`autograde.checks.default_rubric()` and `autograde.checks.rubric_in_effect()` do).

An instructor's rubric (a file given with `--rubric`, or the text of the environment variable
`AUTOGRADE_RUBRIC`) is YAML with up to three keys, each optional:

    points:              # check id -> whole points; 0 drops the check (not graded, not reported)
      images.size_ratio: 20
      dockerfile.builder_tests: 0
    thresholds:          # name -> number in (0, 1]
      size_ratio_max: 0.4
    bonus:               # checks whose points are extra: added when they pass, not part of the maximum
      - nonroot.final_user

Every error names the source and the line.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENV_VAR = "AUTOGRADE_RUBRIC"
KEYS = ("points", "thresholds", "bonus")


@dataclass(frozen=True)
class RubricItem:
    id: str
    name: str
    points: int
    checklist: str  # item of the lab's validation checklist, "-" for none
    phase: str  # "static" or "runtime"
    passes_when: str  # may name thresholds as {size_ratio_max}: Rubric.passes_when fills in their values
    bonus: bool = False  # extra points: added to the total when the check passes, not part of the maximum


DEFAULT_THRESHOLDS: dict[str, float] = {}  # a lab's own thresholds come with its pack (`LabPack.thresholds`)


class RubricError(Exception):
    """An instructor's rubric is invalid; the message says where (source:line) and why."""


@dataclass(frozen=True)
class Rubric:
    items: tuple[RubricItem, ...]
    thresholds: dict[str, float] = dataclasses.field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    source: str = "default"  # "default", a file path, or "env AUTOGRADE_RUBRIC"

    @property
    def possible(self) -> int:
        """The maximum: the points of every check that is not a bonus."""
        return sum(i.points for i in self.items if not i.bonus)

    @property
    def bonus_points(self) -> int:
        return sum(i.points for i in self.items if i.bonus)

    def item(self, check_id: str) -> RubricItem:
        for i in self.items:
            if i.id == check_id:
                return i
        raise KeyError(check_id)

    def passes_when(self, item: RubricItem) -> str:
        """The item's pass condition with the thresholds in effect written out (e.g. `<= 0.5 x`)."""
        return item.passes_when.format_map({k: f"{v:g}" for k, v in self.thresholds.items()})

    def fingerprint(self) -> str:
        """A short hash of what decides a grade (ids, points, bonus, thresholds): two reports graded
        under the same rubric have the same fingerprint, whatever the rubric's source was called."""
        data = {
            "checks": [[i.id, i.points, i.bonus] for i in self.items],
            "thresholds": sorted(self.thresholds.items()),
        }
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:12]

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "fingerprint": self.fingerprint(),
            "max_score": self.possible,
            "bonus_points": self.bonus_points,
            "checks": [{**dataclasses.asdict(i), "passes_when": self.passes_when(i)} for i in self.items],
            "thresholds": dict(self.thresholds),
        }


def _suggest(word: str, choices: Iterable[str]) -> str:
    choices = list(choices)
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(choices)})"


class _Lines:
    """Line numbers of the keys and list entries of a YAML document (1-based), from its node tree."""

    def __init__(self, node: Any) -> None:
        self.node = node

    def of(self, *path: str | int) -> int | None:
        import yaml

        node = self.node
        line = None if node is None else node.start_mark.line + 1
        for step in path:
            if isinstance(node, yaml.MappingNode):
                found = next(((k, v) for k, v in node.value if k.value == step), None)
                if found is None:
                    return line
                line, node = found[0].start_mark.line + 1, found[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
                node = node.value[step]
                line = node.start_mark.line + 1
            else:
                return line
        return line


def parse_rubric(
    text: str,
    source: str,
    defaults: Sequence[RubricItem],
    *,
    orphans_of: str | None = None,
    thresholds: dict[str, float] | None = None,
) -> Rubric:
    """The default rubric changed by an instructor's YAML text. `source` names it in messages.

    orphans_of: when set (the names of plugins that failed to load), a check id the rubric gives
    points to that no check declares is kept, as a row of those plugins, instead of refused: its
    check is then graded `error`, naming them.
    thresholds: the lab's thresholds and their defaults (the only names the rubric may set).
    """
    known_thresholds = dict(DEFAULT_THRESHOLDS if thresholds is None else thresholds)
    import yaml

    try:
        data = yaml.safe_load(text)
        lines = _Lines(yaml.compose(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise RubricError(f"{source}{where}: not valid YAML ({getattr(e, 'problem', None) or e})") from None

    def error(message: str, *path: str | int) -> RubricError:
        line = lines.of(*path)
        return RubricError(f"{source}{'' if line is None else f':{line}'}: {message}")

    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise error("the rubric must be a mapping with `points`, `thresholds` and/or `bonus`")
    for key in data:
        if key not in KEYS:
            raise error(f"unknown key {key!r}" + _suggest(str(key), KEYS), key)

    ids = [i.id for i in defaults]
    points = data.get("points") or {}
    if not isinstance(points, dict):
        raise error("`points` must map check ids to whole numbers", "points")
    orphans = []
    for key, value in points.items():
        if key not in ids:
            if orphans_of is None:
                raise error(f"unknown check id {key!r} under points" + _suggest(str(key), ids), "points", key)
            orphans.append(
                RubricItem(
                    str(key), str(key), 0, "-", "static", f"declared by a plugin that failed to load ({orphans_of})"
                )
            )
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise error(f"points for {key} must be a whole number >= 0, got {value!r}", "points", key)

    bonus = data.get("bonus") or []
    if not isinstance(bonus, list):
        raise error("`bonus` must be a list of check ids", "bonus")
    known = ids + [o.id for o in orphans]
    for n, key in enumerate(bonus):
        if key not in known:
            if orphans_of is None or not isinstance(key, str):
                raise error(f"unknown check id {key!r} under bonus" + _suggest(str(key), ids), "bonus", n)
            orphans.append(
                RubricItem(key, key, 0, "-", "static", f"declared by a plugin that failed to load ({orphans_of})")
            )

    items = []
    for item in (*defaults, *orphans):
        value = points.get(item.id, item.points)
        if item.id in points and value == 0:
            continue  # dropped by the instructor: not graded, not reported
        items.append(dataclasses.replace(item, points=value, bonus=item.bonus or item.id in bonus))

    in_effect = dict(known_thresholds)
    raw = data.get("thresholds") or {}
    if not isinstance(raw, dict):
        raise error("`thresholds` must be a mapping", "thresholds")
    for key, value in raw.items():
        if key not in known_thresholds:
            raise error(f"unknown threshold {key!r}" + _suggest(str(key), known_thresholds), "thresholds", key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
            raise error(f"threshold {key} must be a number in (0, 1], got {value!r}", "thresholds", key)
        in_effect[key] = float(value)
    rubric = Rubric(items=tuple(items), thresholds=in_effect, source=source)
    if rubric.possible == 0:
        raise error("no check is worth points outside `bonus`; at least one must score")
    return rubric


def read_rubric(path: str | Path) -> tuple[str, str]:
    """(text, source) of a rubric file; RubricError if it cannot be read."""
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8"), str(p)
    except (OSError, UnicodeDecodeError) as e:
        why = getattr(e, "strerror", None) or str(e)
        raise RubricError(f"{p}: cannot read the rubric file ({why})") from None
