"""A failed build told as what its log shows: the failing instruction, the kind of failure, what to do.

The kind comes from the failing step's own exit code and last lines, never from a guess by the
instruction's text: exit 127 / "not found" is a missing program, a pytest summary with failures
is failing tests, pip's resolver errors are dependency errors. Registry and engine trouble is
the machine's, so it is an `error`, not a `fail`.
"""

from __future__ import annotations

import posixpath
import re

from autograde.checks.base import Outcome, errored, failed
from autograde.checks.hints import pytest_hint, split_image, unopened_requirements_hint
from autograde.model import Submission
from autograde.model.dockerfile import FILENAME, Dockerfile, Instruction, PytestRun, Stage
from autograde.runtime.facts import BuildFacts

_NOT_FOUND = re.compile(
    r"(?:^|\s)(?:/bin/sh: \d+: |sh: \d+: |/bin/sh: |bash: (?:line \d+: )?)?(?P<prog>[^\s:]+): "
    r"(?:not found|No such file or directory|command not found)",
    re.M,
)
_PYTEST_SUMMARY = re.compile(r"^=+ (?P<summary>.*\b(?:failed|error|errors)\b.*?) =+$", re.M)
_NO_MODULE = re.compile(r"No module named '?(?P<module>[\w.]+)'?")
_PIP_RESOLVE = re.compile(
    r"^ERROR: (?:Could not find a version that satisfies.*|No matching distribution found.*|"
    r"ResolutionImpossible.*|Cannot install .*)$",
    re.M,
)
_PYTEST_NO_PATH = re.compile(r"ERROR: file or directory not found: (?P<p>\S+)")
_PIP_NO_FILE = re.compile(r"Could not open requirements file: \[Errno 2\] No such file or directory: '(?P<f>[^']+)'")


def _quote(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + " [...]"


def explain_build(sub: Submission, build: BuildFacts, what: str) -> Outcome:
    """The outcome of a check that needed `what` (e.g. "the prod image") when its build failed."""
    df = sub.dockerfile
    if build.infrastructure:
        step = build.failed_step or ""
        image = step.removeprefix("load metadata for ").strip() if step.startswith("load metadata for ") else ""
        ins = _from_for(df, image) if image else None
        at = f" (resolving {image} for {FILENAME}:{ins.line})" if ins else ""
        return errored(
            f"building {what} failed, but not because of your files: {build.infrastructure}{at}"
            + (f"; the builder said: {_quote(build.error)}" if build.error else ""),
            "Nothing to fix in your files. Grade again (push again, or ask your instructor to "
            "re-run the job); tell your instructor if it keeps happening.",
            FILENAME if ins else None,
            ins.line if ins else None,
        )
    if build.timed_out:
        return failed(
            f"building {what} did not finish within {build.seconds:.0f} s and was stopped",
            "Look for a RUN step that never ends or waits for input.",
            FILENAME,
            None,
            build.output_tail,
        )
    step = build.failed_step or ""
    lowered = (build.error + "\n" + build.output_tail).lower()
    if step.startswith("load metadata for ") or "failed to resolve source metadata" in lowered:
        image = step.removeprefix("load metadata for ").strip() or "the base image"
        ins = _from_for(df, image)
        return failed(
            f"{FILENAME}:{ins.line if ins else '?'}: the base image {image} does not exist "
            f"(the registry said: {_quote(build.error)})",
            "Check the image name and tag, e.g. `python:3.13` for the builder and `python:3.13-slim` for "
            "the final stage.",
            FILENAME,
            ins.line if ins else None,
            build.output_tail,
        )
    ins = df.instruction_for(step) if df is not None and step else None
    if ins is None or df is None:
        return failed(
            f"building {what} failed at a step the grader could not match to a line: "
            f"{_quote(build.error) or 'see the log'}",
            "Build it yourself with `docker compose -f docker-compose.prod.yml build` and read the failing step.",
            FILENAME,
            None,
            build.output_tail,
        )
    where = f"{FILENAME}:{ins.line} (`{_quote(ins.original, 100)}`)"
    if ins.cmd == "RUN":
        message, hint = _explain_run(df, ins, build, where)
    elif ins.cmd in ("COPY", "ADD"):
        message, hint = _explain_copy(df, ins, build, where)
    else:
        message, hint = (
            f"building {what} failed at {where}: {_quote(build.error) or 'see the log'}",
            "Build it yourself with `docker compose -f docker-compose.prod.yml build` and read the failing step.",
        )
    return failed(message, hint, FILENAME, ins.line, build.output_tail)


def _explain_run(df: Dockerfile, ins: Instruction, build: BuildFacts, where: str) -> tuple[str, str]:
    log = build.step_log or build.output_tail
    code = f"exit code {build.exit_code}" if build.exit_code is not None else "a failure"
    found = _pytest_run(df, ins)
    missing = _NOT_FOUND.search(log)
    no_module = _NO_MODULE.search(log)
    if found is not None and (
        (no_module and no_module.group("module") == "pytest")
        or (missing and posixpath.basename(missing.group("prog")) in ("pytest", "py.test"))
    ):
        stage, run = found
        seen = no_module.group(0) if no_module else missing.group(0).strip() if missing else ""
        return (
            f"{where} runs pytest where it is not installed ({code}; the log says `{_quote(seen, 100)}`)",
            pytest_hint(df, stage, run),
        )
    if missing and (build.exit_code == 127 or "not found" in missing.group(0)):
        prog = missing.group("prog")
        own = _stage_of(df, ins)
        venvs = [v.path for v in own.state.venvs] if own is not None else []
        message = (
            f"{where} calls `{prog}`, which does not exist in that stage ({code}; the log says "
            f"`{_quote(missing.group(0).strip(), 100)}`)"
        )
        if prog.endswith(("/bin/pip", "/bin/python", "/bin/pytest")) or "/bin/pip" in prog or "/bin/python" in prog:
            have = f" (this stage has a venv at {', '.join(venvs)})" if venvs else ""
            return message, (
                f"Use the same venv path everywhere: where it is created, in ENV PATH, in the "
                f"commands and in COPY --from{have}."
            )
        return message, "Check the program's name and path in the stage's base image, or install it first."
    summary = _PYTEST_SUMMARY.findall(log)
    if "pytest" in ins.original and (summary or re.search(r"^FAILED |^ERROR collecting", log, re.M)):
        said = summary[-1] if summary else "failures"
        return (
            f"{where}: the app's tests failed during the build ({_quote(said, 100)})",
            "Read the pytest output below; a failing test stops the build, as intended. Fix the code or the "
            "test and push again.",
        )
    not_there = _PYTEST_NO_PATH.search(log)
    if found is not None and not_there:
        stage, run = found
        tests = stage.state.placements["app/tests"]
        at = f"; the app's tests are at {', '.join(tests)} in that stage" if tests else ""
        return (
            f"{where}: pytest cannot find {not_there.group('p')} in {run.cwd} ({code}){at}",
            (
                f"Run pytest on the folder where the tests are (`python -m pytest "
                f"{posixpath.relpath(tests[0], run.cwd)}`), or copy the contents of app/ into WORKDIR "
                f"(`COPY {df.in_context('app')}/ .`)."
                if tests
                else f"Copy the app with its tests into the stage first (`COPY {df.in_context('app')}/ .`)."
            ),
        )
    if "pytest" in ins.original and build.exit_code == 5:
        return (
            f"{where}: pytest found no tests to run (exit code 5)",
            "Run it where the app's tests are: from the builder's WORKDIR, `python -m pytest tests/`.",
        )
    no_file = _PIP_NO_FILE.search(log)
    if no_file:
        return (
            f"{where}: pip cannot open {no_file.group('f')} ({code}: no such file in that stage)",
            unopened_requirements_hint(df, ins.line, no_file.group("f")),
        )
    resolve = _PIP_RESOLVE.search(log)
    if resolve:
        return (
            f"{where}: pip could not install the requirements ({_quote(resolve.group(0), 140)})",
            "Check the package names and versions in the requirements file this line installs.",
        )
    last = next((line for line in reversed(log.splitlines()) if line.strip()), "")
    return (
        f"{where} failed with {code}" + (f"; its last line: `{_quote(last, 140)}`" if last else ""),
        "Build it yourself with `docker compose -f docker-compose.prod.yml build` and read the failing step.",
    )


def _explain_copy(df: Dockerfile, ins: Instruction, build: BuildFacts, where: str) -> tuple[str, str]:
    text = (build.error + "\n" + build.output_tail).lower()
    if "not found" not in text and "no such file" not in text:
        return (
            f"building failed at {where}: {_quote(build.error) or 'see the log'}",
            "Build it yourself with `docker compose -f docker-compose.prod.yml build` and read the failing step.",
        )
    source = ins.flags.get("from")
    if source:
        stage = df.stage(source)
        have = []
        if stage is not None:
            have += [f"a venv at {v.path}" for v in stage.state.venvs]
            have += [f"main.py at {p}" for p in stage.state.placements["app/main.py"]]
        has = f"; stage {source} has {', '.join(have)}" if have else ""
        return (
            f"{where}: a path copied from stage {source} does not exist there{has}",
            "The source of `COPY --from=<stage>` is a path inside that stage, read from its root (not from "
            "its WORKDIR): write it in full, the exact path where the builder created it.",
        )
    return (
        f"{where}: a source path of {ins.cmd} does not exist in the build context ({df.context_words})",
        f"Paths are relative to the build context ({df.context_words}, as docker-compose.prod.yml sets it), "
        f"e.g. `{df.in_context('app/requirements.txt')}`.",
    )


def _stage_of(df: Dockerfile, ins: Instruction) -> Stage | None:
    for stage in df.stages:
        if any(i.line == ins.line for i in stage.instructions):
            return stage
    return None


def _pytest_run(df: Dockerfile, ins: Instruction) -> tuple[Stage, PytestRun] | None:
    for stage in df.stages:
        for run in stage.pytest_runs:
            if run.line == ins.line:
                return stage, run
    return None


def _from_for(df: Dockerfile | None, image: str) -> Instruction | None:
    """The FROM instruction whose base is `image` (as the builder names it, e.g. docker.io/library/x:y)."""
    if df is None:
        return None
    want = split_image(image)
    for stage in df.stages:
        if split_image(stage.base) == want:
            return next(i for i in df.instructions if i.cmd == "FROM" and i.line == stage.line)
    return None
