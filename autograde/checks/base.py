"""What a check returns, and what it is given."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from autograde.model.files import Problem
from autograde.results import Status

if TYPE_CHECKING:
    from autograde.model import Submission
    from autograde.rubric import Rubric
    from autograde.runtime.facts import Facts


class Outcome(NamedTuple):
    status: Status
    message: str
    hint: str = ""
    file: str | None = None
    line: int | None = None
    log_tail: str = ""


def passed(message: str, file: str | None = None, line: int | None = None) -> Outcome:
    return Outcome("pass", message, "", file, line)


def failed(message: str, hint: str = "", file: str | None = None, line: int | None = None,
           log_tail: str = "") -> Outcome:
    return Outcome("fail", message, hint, file, line, log_tail)


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


Check = Callable[[Context], Outcome]
