"""An extra check for the LAB04 autograder: the final stage of Dockerfile.prod does not run as root.

Installed beside the grader, it is found through the entry point group `autograde.checks`
(pyproject.toml) and its check appears everywhere a built-in check does: `autograde rubric`, the
console, the JSON and JUnit reports, the step summary, the Classroom reporter and the gradebook.
Its points and whether it is a bonus are the instructor's rubric's business (AUTOGRADE_RUBRIC).
"""

from __future__ import annotations

from autograde.checks.base import Context, Outcome, check, failed, passed
from autograde.checks.dockerfile import dockerfile_model
from autograde.model.dockerfile import FILENAME, Dockerfile, Instruction, Stage

ROOT = ("root", "0", "root:root", "0:0")


def _users(df: Dockerfile, stage: Stage) -> list[Instruction]:
    """USER instructions in effect for `stage`: its own, after those of the stages it is built FROM."""
    chain: list[Stage] = []
    current: Stage | None = stage
    while current is not None and current not in chain:
        chain.append(current)
        current = df.stages[current.parent] if current.parent is not None else None
    return [i for s in reversed(chain) for i in s.instructions if i.cmd == "USER"]


@check(
    "nonroot.final_user",
    name="The prod image runs as a non-root user",
    points=5,
    checklist="-",
    phase="static",
    passes_when="the final stage of Dockerfile.prod sets USER to a user other than root",
    needs=(dockerfile_model,),
)
def final_user(ctx: Context, df: Dockerfile) -> Outcome:
    final = df.final  # the stage that is built (Compose's target, else the last)
    assert final is not None  # dockerfile_model gives a Dockerfile with at least one stage
    users = _users(df, final)
    if not users or users[-1].args[0].strip() in ROOT:
        where = users[-1].line if users else final.line
        return failed(
            f"{FILENAME}:{where}: the final stage runs as root",
            "Create a user in the final stage and switch to it before CMD, e.g. "
            "`RUN useradd --create-home app` then `USER app`.",
            FILENAME,
            where,
        )
    return passed(f"the final stage runs as {users[-1].args[0]}", FILENAME, users[-1].line)
