"""Turning a failed build's output into the instruction that failed and a hint a student can act on."""
from __future__ import annotations

import re

from autograde.model import Submission
from autograde.model.dockerfile import FILENAME, Dockerfile, Instruction
from autograde.runtime.facts import BuildFacts

_BUILDKIT_STEP = re.compile(r"^\s*> \[[^\]]*\] (?P<step>.+?):?\s*$", re.M)
_CLASSIC_STEP = re.compile(r"^Step \d+/\d+ : (?P<step>.+)$", re.M)
_FAILED_SHELL = re.compile(r'running \[/bin/sh -c (?P<cmd>.+?)\]: exit code|"/bin/sh -c (?P<cmd2>.+?)" did not complete')
_ERROR = re.compile(r"^(?:#\d+ )?(?:ERROR|error|failed to solve|The command).*$", re.M)


def parse_build_output(output: str) -> tuple[str | None, str]:
    """(failing instruction text, the builder's error line) from BuildKit or classic output.

    BuildKit builds stages in parallel and also reports the steps it cancelled, so the step is
    taken from the command in the error line first, then from the step marked ERROR.
    """
    errors = _ERROR.findall(output)
    error = errors[-1].strip() if errors else ""
    ran = _FAILED_SHELL.search(output)
    if ran:
        return "RUN " + (ran.group("cmd") or ran.group("cmd2")), error
    failed = re.search(r"^#(\d+) ERROR", output, re.M)
    if failed:
        named = re.search(rf"^#{failed.group(1)} \[[^\]]*\] (?P<step>.+)$", output, re.M)
        if named:
            return named.group("step").strip(), error
    steps = _BUILDKIT_STEP.findall(output) or _CLASSIC_STEP.findall(output)
    return (steps[-1].rstrip(":").strip() if steps else None), error


def explain_build(sub: Submission, build: BuildFacts, what: str) -> tuple[str, str, str | None, int | None]:
    if build.timed_out:
        return (f"building {what} did not finish within {build.seconds:.0f} s and was stopped",
                "Look for a RUN step that never ends or waits for input.", FILENAME, None)
    df = sub.dockerfile
    step = build.failed_step or ""
    text = (build.error + "\n" + build.output_tail).lower()
    if step.startswith("load metadata for ") or "failed to resolve source metadata" in build.error.lower():
        image = step.removeprefix("load metadata for ").strip() or "the base image"
        ins = _from_for(df, image)
        return (f"{FILENAME}:{ins.line if ins else '?'}: the base image {image} does not exist or cannot be pulled",
                "Check the image name and tag, e.g. `python:3.13` for the builder and `python:3.13-slim` for the "
                "final stage.", FILENAME, ins.line if ins else None)
    ins = df.instruction_for(step) if df is not None and step else None
    where = f"{FILENAME}:{ins.line} (`{' '.join(ins.original.split())[:100]}`)" if ins else "an unknown step"
    line = ins.line if ins else None
    message = f"building {what} failed at {where}: {build.error or 'see the log'}"
    hint = "Build it yourself with `docker compose -f docker-compose.prod.yml build` and read the failing step."
    if ins is None:
        return message, hint, FILENAME, line
    if ins.cmd == "RUN" and "pytest" in ins.original and ("no module named pytest" in text
                                                          or "pytest: not found" in text):
        return (f"{FILENAME}:{ins.line} runs pytest where it is not installed",
                "pytest is in app/requirements-dev.txt, not app/requirements.txt, so the venv has no pytest. "
                "Install the dev requirements with the image's own pip and run the tests with it: "
                "`RUN pip install -r requirements-dev.txt && python -m pytest tests/` (this keeps pytest out "
                "of the venv that the final stage copies).", FILENAME, line)
    if ins.cmd == "RUN" and "pytest" in ins.original:
        return (f"{FILENAME}:{ins.line}: the app's tests failed during the build",
                "Read the pytest output below; a failing test stops the build, as intended.", FILENAME, line)
    if ins.cmd in ("COPY", "ADD") and ("not found" in text or "no such file" in text):
        source = ins.flags.get("from")
        if source and df is not None:
            stage = df.stage(source)
            have = []
            if stage is not None:
                have += [f"a venv at {v.path}" for v in stage.state.venvs]
                have += [f"main.py at {p}" for p in stage.state.placements["app/main.py"]]
            has = f"; stage {source} has {', '.join(have)}" if have else ""
            return (f"{FILENAME}:{ins.line}: a path copied from stage {source} does not exist there{has}",
                    "Copy from the exact path where the builder created it (venv path, builder WORKDIR).",
                    FILENAME, line)
        return (f"{FILENAME}:{ins.line}: a source path of {ins.cmd} does not exist in the build context",
                "Paths are relative to the repository root (the build context), e.g. `app/requirements.txt`.",
                FILENAME, line)
    if ins.cmd == "RUN" and ("bin/pip: not found" in text or "bin/python: not found" in text
                             or "no such file or directory" in text):
        return (f"{FILENAME}:{ins.line} calls a program that does not exist at that path",
                "Use the same venv path everywhere: where it is created, in ENV PATH and in COPY --from.",
                FILENAME, line)
    return message, hint, FILENAME, line


def _from_for(df: Dockerfile | None, image: str) -> Instruction | None:
    """The FROM instruction whose base is `image` (as the builder names it, e.g. docker.io/library/x:y)."""
    from autograde.checks.dockerfile import split_image

    if df is None:
        return None
    want = split_image(image)
    for stage in df.stages:
        if split_image(stage.base) == want:
            return next(i for i in df.instructions if i.cmd == "FROM" and i.line == stage.line)
    return None
