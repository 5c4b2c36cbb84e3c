"""A failed build told as what its log shows: the failing instruction, the kind of failure, what to do.

The kind comes from the failing step's own exit code and last lines, never from a guess by the
instruction's text: exit 127 / "not found" is a missing program, a pytest summary with failures
is failing tests, pip's resolver errors are dependency errors. Registry and engine trouble is
the machine's, so it is an `error`, not a `fail`.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
import re
from pathlib import Path
from typing import NamedTuple

from autograde import labs
from autograde.checks.base import Outcome, errored, failed
from autograde.labs.lab04.hints import pytest_hint, split_image, unopened_requirements_hint
from autograde.model import Submission
from autograde.model.dockerfile import Dockerfile, Instruction, PytestRun, Stage
from autograde.model.files import FileProblem, inside, read_text
from autograde.model.shell import resolve
from autograde.results import Place
from autograde.runtime.diagnose import FailedTest, Ignored, ignore_patterns, ignored_by, pytest_failures, pytest_summary
from autograde.runtime.engine_age import OLDEST_ENGINE
from autograde.runtime.facts import BuildFacts

_NOT_FOUND = re.compile(
    r"(?:^|\s)(?:/bin/sh: \d+: |sh: \d+: |/bin/sh: |bash: (?:line \d+: )?)?(?P<prog>[^\s:]+): "
    r"(?:not found|No such file or directory|command not found)",
    re.M,
)
_NO_MODULE = re.compile(r"No module named '?(?P<module>[\w.]+)'?")
_PIP_RESOLVE = re.compile(
    r"^ERROR: (?:Could not find a version that satisfies.*|No matching distribution found.*|"
    r"ResolutionImpossible.*|Cannot install .*)$",
    re.M,
)
_PYTEST_NO_PATH = re.compile(r"ERROR: file or directory not found: (?P<p>\S+)")
_PIP_NO_FILE = re.compile(r"Could not open requirements file: \[Errno 2\] No such file or directory: '(?P<f>[^']+)'")


class Told(NamedTuple):
    """What a failed step says: the message, the hint, and where to fix it when not at the failing line."""

    message: str
    hint: str
    file: str | None = None
    line: int | None = None
    places: tuple[Place, ...] = ()


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
        at = f" (resolving {image} for {_file()}:{ins.line})" if ins else ""
        return errored(
            f"building {what} failed, but not because of your files: {build.infrastructure}{at}"
            + (f"; the builder said: {_quote(build.error)}" if build.error else ""),
            (
                f"Nothing to fix in your files: grade on {OLDEST_ENGINE} or newer with BuildKit (GitHub's "
                "runners have one), or tell your instructor."
                if build.infrastructure.startswith("this engine is too old")
                else "Nothing to fix in your files. Grade again (push again, or ask your instructor to "
                "re-run the job); tell your instructor if it keeps happening."
            ),
            _file() if ins else None,
            ins.line if ins else None,
        )
    if build.timed_out:
        hung = df.instruction_for(build.running_step) if df is not None and build.running_step else None
        at = f" at {_file()}:{hung.line} (`{_quote(hung.original, 100)}`)" if hung else ""
        seen = f"; {'; '.join(build.still_running)}" if build.still_running else ""
        return failed(
            f"building {what} did not finish within {build.seconds:.0f} s and was stopped{at}{seen}",
            "Look for a RUN step that never ends, waits for input, or starts processes without end.",
            _file(),
            hung.line if hung else None,
            build.output_tail,
        )
    step = build.failed_step or ""
    lowered = (build.error + "\n" + build.output_tail).lower()
    if step.startswith("load metadata for ") or "failed to resolve source metadata" in lowered:
        image = step.removeprefix("load metadata for ").strip() or "the base image"
        ins = _from_for(df, image)
        return failed(
            f"{_file()}:{ins.line if ins else '?'}: the base image {image} does not exist "
            f"(the registry said: {_quote(build.error)})",
            "Check the image name and tag, e.g. `python:3.13` for the builder and `python:3.13-slim` for "
            "the final stage.",
            _file(),
            ins.line if ins else None,
            build.output_tail,
        )
    bad_name = re.search(r'failed to parse stage name "([^"]*)"', build.error + "\n" + build.output_tail)
    stage = next((s for s in df.stages if s.base == bad_name.group(1)), None) if bad_name and df else None
    if stage is not None:  # e.g. a FROM variable that is not a global ARG expanded to nothing
        unset = f" ({', '.join(stage.from_undefined)} expanded to nothing)" if stage.from_undefined else ""
        return failed(
            f"{_file()}:{stage.line}: `FROM {stage.base_written}` is `{stage.base}`, not an image name{unset}: "
            f"the builder said {_quote(build.error)}",
            "A FROM line sees only the ARGs declared before the first FROM; declare it there, or write the tag out.",
            _file(),
            stage.line,
            build.output_tail,
        )
    refused = re.search(r"dockerfile parse error on line (\d+): ([^\n]+)", build.error + "\n" + build.output_tail)
    if refused:  # the engine's own Dockerfile frontend refuses a line (e.g. a flag of the labs syntax only)
        flag = re.search(r"unknown flag: (\S+)", refused.group(2))
        return failed(
            f"{_file()}:{refused.group(1)}: this engine's Dockerfile parser refuses the line: "
            f"{_quote(refused.group(2))}",
            (
                f"`--{flag.group(1)}` is not in the Dockerfile syntax Docker builds without a `# syntax=` line "
                "(it is a labs feature); write the step without it."
                if flag
                else "Fix the line as the message says; `docker compose -f docker-compose.prod.yml build` shows it."
            ),
            _file(),
            int(refused.group(1)),
            build.output_tail,
        )
    ins = df.instruction_for(step) if df is not None and step else None
    if ins is None or df is None:
        return failed(
            f"building {what} failed at a step the grader could not match to a line: "
            f"{_quote(build.error) or 'see the log'}",
            "Build it yourself with `docker compose -f docker-compose.prod.yml build` and read the failing step.",
            _file(),
            None,
            build.output_tail,
        )
    where = f"{_file()}:{ins.line} (`{_quote(ins.original, 100)}`)"
    if ins.cmd == "RUN" and build.oom_limit:
        return failed(
            f"building {what} failed at {where}: killed: out of memory (limit {build.oom_limit} per build step)",
            f"This step used more than the {build.oom_limit} of memory a build step may use; "
            "look for what allocates without end.",
            _file(),
            ins.line,
            build.output_tail,
        )
    if ins.cmd == "RUN" and build.pids_limit:
        code = f"exit code {build.exit_code}" if build.exit_code is not None else "a failure"
        return failed(
            f"building {what} failed at {where} ({code}): its processes hit the cap of {build.pids_limit} "
            "per build step (`Cannot fork`)",
            "This step starts processes without end; look for a command that calls itself.",
            _file(),
            ins.line,
            build.output_tail,
        )
    if ins.cmd == "RUN" and "no space left on device" in (build.step_log or build.output_tail).lower():
        return failed(
            f"building {what} failed at {where}: No space left on device (the step wrote more than the "
            "grading machine's disk holds)",
            "This step writes more data than an image should hold; look for what writes without end.",
            _file(),
            ins.line,
            build.output_tail,
        )
    if ins.cmd == "RUN":
        told = _explain_run(df, ins, build, where, sub)
    elif ins.cmd in ("COPY", "ADD"):
        told = _explain_copy(df, ins, build, where, sub)
    else:
        told = Told(
            f"building {what} failed at {where}: {_quote(build.error) or 'see the log'}",
            "Build it yourself with `docker compose -f docker-compose.prod.yml build` and read the failing step.",
        )
    return failed(told.message, told.hint, told.file or _file(), told.line or ins.line, build.output_tail, told.places)


def _explain_run(df: Dockerfile, ins: Instruction, build: BuildFacts, where: str, sub: Submission) -> Told:
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
        return Told(
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
            return Told(
                message,
                f"Use the same venv path everywhere: where it is created, in ENV PATH, in the "
                f"commands and in COPY --from{have}.",
            )
        return Told(message, "Check the program's name and path in the stage's base image, or install it first.")
    full = build.output_tail + "\n" + build.step_log
    said = pytest_summary(log) or pytest_summary(full)
    failures = pytest_failures(full) if "pytest" in ins.original else []
    tests_failed = bool(failures) or bool(said and re.search(r"\b(?:failed|errors?)\b", said))
    if "pytest" in ins.original and tests_failed and build.exit_code in (None, 1, 2):
        places = _failed_test_places(sub, found, failures)
        named = ", ".join(f"{p.file}:{p.line}" if p.line else p.file for p in places[:3])
        return Told(
            f"{where}: the app's tests failed during the build (pytest: {_quote(said or 'failures', 100)})"
            + (f"; see {named}" if named else ""),
            (
                f"Fix the failing test at {named} or the code it tests"
                if named
                else "Fix the failing test or the code it tests"
            )
            + " (pytest's output is in the build log): a failing test stops the build, as intended, so no image "
            "is built until the tests pass.",
            places=places,
        )
    no_path = _PYTEST_NO_PATH.search(log) or _PYTEST_NO_PATH.search(full)
    if found is not None and (no_path or build.exit_code in (4, 5)):
        return _no_tests(df, ins, found, where, code, no_path.group("p") if no_path else None, sub)
    no_file = _PIP_NO_FILE.search(log)
    if no_file:
        return Told(
            f"{where}: pip cannot open {no_file.group('f')} ({code}: no such file in that stage)",
            unopened_requirements_hint(df, ins.line, no_file.group("f")),
        )
    resolve = _PIP_RESOLVE.search(log)
    if resolve:
        return Told(
            f"{where}: pip could not install the requirements ({_quote(resolve.group(0), 140)})",
            "Check the package names and versions in the requirements file this line installs.",
        )
    last = next((line for line in reversed(log.splitlines()) if line.strip()), "")
    return Told(
        f"{where} failed with {code}" + (f"; its last line: `{_quote(last, 140)}`" if last else ""),
        "Build it yourself with `docker compose -f docker-compose.prod.yml build` and read the failing step.",
    )


def _explain_copy(df: Dockerfile, ins: Instruction, build: BuildFacts, where: str, sub: Submission) -> Told:
    text = (build.error + "\n" + build.output_tail).lower()
    if "not found" not in text and "no such file" not in text:
        return Told(
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
        return Told(
            f"{where}: a path copied from stage {source} does not exist there{has}",
            "The source of `COPY --from=<stage>` is a path inside that stage, read from its root (not from "
            "its WORKDIR): write it in full, the exact path where the builder created it.",
        )
    sources = [_repo_path(df, a) for a in ins.args[:-1] if not any(ch in a for ch in "*?[")]
    excluded = _excluded(sub, [p for p in sources if (sub.root / p).exists()])
    if excluded is not None:
        name, hit = excluded
        return Told(
            f"{where}: {hit.path} is in the repository, but {name}:{hit.line} (`{hit.pattern}`) keeps it out of "
            "the build context, so COPY cannot find it",
            f"Remove or narrow the line `{hit.pattern}` in {name} (line {hit.line}) so that the files this COPY "
            "needs reach the build.",
            name,
            hit.line,
        )
    return Told(
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


# --- the student's terms: repository paths, .dockerignore ----------------------------------------


def _in_repository(sub: Submission, stage: Stage, cwd: str, path: str) -> str | None:
    """The repository path of a file pytest names (relative to the step's working directory), through
    the COPY instructions that put it there: `tests/test_main.py` copied from app/ is
    `app/tests/test_main.py`. None when no COPY from the build context explains it."""
    in_stage = resolve(path, cwd)
    for tracked, locations in stage.state.placements.items():
        for loc in locations:
            if in_stage == loc:
                rel = tracked
            elif in_stage.startswith(loc.rstrip("/") + "/") and tracked == "app/tests":
                rel = posixpath.join(tracked, posixpath.relpath(in_stage, loc))
            else:
                continue
            if inside(sub.root, sub.root / rel) and (sub.root / rel).is_file():
                return rel
    return None


def _failed_test_places(
    sub: Submission, found: tuple[Stage, PytestRun] | None, failures: list[FailedTest]
) -> tuple[Place, ...]:
    if found is None:
        return ()
    stage, run = found
    places = []
    for f in failures[:5]:
        rel = _in_repository(sub, stage, run.cwd, f.path)
        if rel is None:
            continue
        what = f"pytest: {f.test or f.path} failed" + (f" ({_quote(f.why, 120)})" if f.why else "")
        places.append(Place(rel, f.line, what))
    return tuple(places)


def _ignore_file(sub: Submission) -> tuple[str, str] | None:
    """The ignore file the builder reads for this build and its text: `<Dockerfile>.dockerignore` next to
    the Dockerfile first (BuildKit), else `.dockerignore` at the root of the build context."""
    context = sub.build.context
    for name in (sub.build.dockerfile + ".dockerignore", posixpath.join(context, ".dockerignore")):
        name = posixpath.normpath(name)
        if not (sub.root / name).exists():
            continue
        try:
            return name, read_text(sub.root, name, what="the build's ignore file")
        except FileProblem:
            return None
    return None


def _python_files(base: Path, rel: str, limit: int = 20) -> list[str]:
    """Up to `limit` .py files under a folder of the checkout (symbolic links not followed), as context paths."""
    found: list[str] = []
    for folder, dirs, files in os.walk(base):  # followlinks=False: a link cannot lead out or loop
        dirs.sort()
        for name in sorted(files):
            if name.endswith(".py"):
                found.append(posixpath.join(rel, Path(folder, name).relative_to(base).as_posix()))
                if len(found) >= limit:
                    return found
    return found


def _excluded(sub: Submission, repo_paths: list[str]) -> tuple[str, Ignored] | None:
    """The first of `repo_paths` (or a file under it) that the build's ignore file keeps out of the context."""
    found = _ignore_file(sub)
    if found is None:
        return None
    name, text = found
    patterns = ignore_patterns(text)
    context = sub.build.context
    for repo_path in repo_paths:
        rel = repo_path if context == "." else posixpath.relpath(repo_path, context)
        candidates = [rel]
        base = sub.root / repo_path
        if inside(sub.root, base) and base.is_dir() and not base.is_symlink():
            candidates += _python_files(base, rel)
        for candidate in candidates:
            hit = ignored_by(patterns, candidate)
            if hit is not None:
                return name, hit
    return None


def _repo_path(df: Dockerfile, source: str) -> str:
    """A COPY source (relative to the build context) as a path from the repository root."""
    return posixpath.normpath(posixpath.join(df.context, source.lstrip("/"))).lstrip("/")


def _no_tests(
    df: Dockerfile,
    ins: Instruction,
    found: tuple[Stage, PytestRun],
    where: str,
    code: str,
    path: str | None,
    sub: Submission,
) -> Told:
    """pytest ran no test (exit 4: a path it was given does not exist; 5: it collected nothing): the grader's
    own diagnosis of what put (or did not put) the tests in the working directory."""
    stage, run = found
    seen = f"file or directory not found: {path}" if path else "no tests collected"
    missing = path or "tests/"
    excluded = _excluded(sub, ["app/tests"])
    if excluded is not None:
        name, hit = excluded
        return Told(
            f"{where}: pytest found no {missing} ({code}, `{seen}`): {name}:{hit.line} (`{hit.pattern}`) keeps "
            f"{hit.path} out of the build context, so no COPY can bring the tests into the builder",
            f"Remove the line `{hit.pattern}` from {name} (line {hit.line}): the builder needs app/tests to run "
            "the tests; the final stage copies only the venv and main.py, so the tests still stay out of the "
            "prod image.",
            name,
            hit.line,
        )
    copies = [i for i in stage.instructions if i.cmd in ("COPY", "ADD") and "from" not in i.flags and i.line < run.line]
    flattening = next(
        (
            i
            for i in reversed(copies)
            if any(
                any(ch in a for ch in "*?[") and fnmatch.fnmatchcase("app/tests", _repo_path(df, a))
                for a in i.args[:-1]
            )
        ),
        None,
    )
    if flattening is not None:
        return Told(
            f"{where}: pytest found no {missing} — the COPY at {_file()}:{flattening.line} flattened app/ "
            f"(`{_quote(flattening.original, 80)}`: a `*` copies the contents of each folder it matches, so the "
            f"test files landed in {run.cwd} and there is no tests/ folder; pytest: {code}, `{seen}`)",
            f"Copy the folder with its subfolders: `COPY {df.in_context('app')}/ .` (a trailing slash, no `*`).",
            _file(),
            flattening.line,
        )
    tests = stage.state.placements["app/tests"]
    deciding = next((i for i in reversed(copies) if tests and stage.state.from_context.get(tests[0]) == i.line), None)
    if tests and deciding is not None:
        return Told(
            f"{where}: pytest found no {missing} in {run.cwd} ({code}, `{seen}`); the COPY at "
            f"{_file()}:{deciding.line} put the app's tests at {', '.join(tests)}",
            f"Run pytest on the folder where the tests are (`python -m pytest "
            f"{posixpath.relpath(tests[0], run.cwd)}`), or copy the contents of app/ into WORKDIR "
            f"(`COPY {df.in_context('app')}/ .`).",
            _file(),
            deciding.line,
        )
    return Told(
        f"{where}: pytest found no {missing} in {run.cwd} ({code}, `{seen}`): no COPY brings app/tests into "
        f"{stage.label}",
        f"Copy the app with its tests into the stage before this line (`COPY {df.in_context('app')}/ .`).",
    )


def _file() -> str:
    """The Dockerfile the lab builds (LAB04: Dockerfile.prod)."""
    return labs.current().scenario.dockerfile
