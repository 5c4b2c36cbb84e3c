"""What a check returns, and what it is given."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from autograde.model.files import Problem
from autograde.results import Place, Status
from autograde.rubric import RubricItem

if TYPE_CHECKING:
    from autograde.model import Submission
    from autograde.rubric import Rubric
    from autograde.runtime.facts import BuildFacts, Facts


class Outcome(NamedTuple):
    status: Status
    message: str
    hint: str = ""
    file: str | None = None
    line: int | None = None
    log_tail: str = ""
    places: tuple[Place, ...] = ()  # other lines the evidence points at (the failing test in app/tests/)


def passed(message: str, file: str | None = None, line: int | None = None) -> Outcome:
    return Outcome("pass", message, "", file, line)


def failed(
    message: str,
    hint: str = "",
    file: str | None = None,
    line: int | None = None,
    log_tail: str = "",
    places: tuple[Place, ...] = (),
) -> Outcome:
    return Outcome("fail", message, hint, file, line, log_tail, places)


def skipped(message: str, file: str | None = None, line: int | None = None) -> Outcome:
    return Outcome("skip", message, "", file, line)


def errored(message: str, hint: str = "", file: str | None = None, line: int | None = None) -> Outcome:
    return Outcome("error", message, hint, file, line)


def from_problem(problem: Problem) -> Outcome:
    return failed(problem.message, problem.hint, problem.file, problem.line)


@dataclass(frozen=True)
class Context:
    submission: Submission
    rubric: Rubric
    facts: Facts | None  # None: runtime not run (--static-only)


Need = Callable[[Context], Any]
"""What a check needs, from the context: the thing itself, or the Outcome that stands in when it is missing."""


@dataclass(frozen=True)
class CheckSpec:
    item: RubricItem  # the check's default rubric row
    fn: Callable[..., Outcome]  # called as fn(ctx, *what its needs gave)
    needs: tuple[Need, ...]
    module: str  # the module that declared it: its place in autograde.checks.MODULES (or a plugin) sets the order


DECLARED: dict[tuple[str, str], CheckSpec] = {}
"""Every check declared by a module imported so far, by (module, id), in declaration order. Which of them
grade is the lab pack's business: its `check_modules` (then the plugins), see `autograde.checks`."""


def check(
    check_id: str,
    *,
    name: str,
    points: int,
    checklist: str,
    phase: Literal["static", "runtime"],
    passes_when: str,
    needs: tuple[Need, ...] = (),
) -> Callable[[Callable[..., Outcome]], Callable[..., Outcome]]:
    """Declare a check where its function is: its id, its default rubric row, and what it needs.

    Each need is called with the context first; if one returns an Outcome (the file is missing, the
    runtime did not run ...), that is the check's outcome and the function is not called.
    """

    def register(fn: Callable[..., Outcome]) -> Callable[..., Outcome]:
        key = (fn.__module__, check_id)
        if key in DECLARED:
            raise ValueError(f"check {check_id} is declared twice in {fn.__module__}")
        item = RubricItem(check_id, name, points, checklist, phase, passes_when)
        DECLARED[key] = CheckSpec(item, fn, needs, fn.__module__)
        return fn

    return register


def runtime_facts(ctx: Context) -> Facts | Outcome:
    """The session's facts, or why runtime checks cannot be graded (skip: student's side; error: the grader's)."""
    facts = ctx.facts
    if facts is None:
        return skipped("not run: --static-only grades the files only")
    if facts.refused:
        return skipped(facts.refused)
    if facts.error:
        return errored(facts.error, facts.error_hint)
    return facts


def not_built(build: BuildFacts | None, what: str) -> Outcome:
    """The check needed an image that was not built: skipped, or an error when that was the machine's doing."""
    if build is not None and build.infrastructure:
        return errored(
            f"{what} was not built, for a reason outside your files: {build.infrastructure}",
            "Grade again; tell your instructor if it keeps happening.",
        )
    return skipped(f"{what} did not build (see runtime.up)")
