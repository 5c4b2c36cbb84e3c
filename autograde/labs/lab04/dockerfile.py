"""LAB04's checks of Dockerfile.prod, graded from the parsed model (and, for the outcomes, the build and the
image). `dockerfile_model` is the core's need (autograde.checks.needs), named here too for instructors'
plugins that import it from `autograde.checks.dockerfile`."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from autograde.checks.base import Context, Outcome, check, errored, failed, passed, skipped
from autograde.checks.needs import dockerfile_model
from autograde.labs.lab04 import PACK
from autograde.labs.lab04.hints import misnamed_dev_install, pytest_hint, requirements_hint, split_image, test_step
from autograde.model.dockerfile import (
    PYTEST_RUNS_NOTHING,
    Dockerfile,
    Stage,
    Venv,
    app_words,
)
from autograde.model.shell import resolve

FILENAME = PACK.scenario.dockerfile  # Dockerfile.prod
F = FILENAME


@check(
    "dockerfile.stages",
    name="Dockerfile.prod has a builder stage and a separate final stage",
    points=5,
    checklist="1",
    phase="static",
    passes_when="Dockerfile.prod has >= 2 stages, one named `builder`, and the last stage is not the builder",
    needs=(dockerfile_model,),
)
def stages(ctx: Context, df: Dockerfile) -> Outcome:
    found = ", ".join(f"{s.alias or '(no name)'} on line {s.line}" for s in df.stages)
    if len(df.stages) < 2:
        s = df.stages[0]
        return failed(
            f"{F} has one stage ({found}); a multi-stage build needs at least two",
            "Add a `FROM python:3.13 AS builder` stage that installs, and a final stage that copies from it.",
            F,
            s.line,
        )
    named = df.stage("builder")
    final = df.final
    assert final is not None
    if named is None:
        return failed(
            f"{F} has {len(df.stages)} stages ({found}) but none is named `builder`",
            "Name the first stage: `FROM python:3.13 AS builder`.",
            F,
            df.stages[0].line,
        )
    if named is final:
        return failed(
            f"the stage {F} builds (line {final.line}) is the builder; the image you run would carry every build tool",
            "Put the builder first and end with a final stage on a slim base.",
            F,
            final.line,
        )
    return passed(f"{len(df.stages)} stages: {found}", F, final.line)


@check(
    "dockerfile.builder_venv",
    name="Builder installs app/requirements.txt into a virtual environment",
    points=10,
    checklist="2",
    phase="static",
    passes_when="the builder creates a venv and installs app/requirements.txt with the venv's pip",
    needs=(dockerfile_model,),
)
def builder_venv(ctx: Context, df: Dockerfile) -> Outcome:
    text = _builder_venv_text(df)
    evidence = _venv_evidence(ctx, df, text)
    return text if evidence is None else evidence


def _venv_evidence(ctx: Context, df: Dockerfile, text: Outcome) -> Outcome | None:
    """builder_venv decided from the built prod image: a venv the final stage got from an earlier stage
    holds Flask and redis, whatever put them there. None: no image, or nothing in it that decides."""
    facts = ctx.facts
    build = facts.prod_build if facts is not None else None
    image = facts.image if facts is not None else None
    if build is None or not build.ok or image is None or image.error or len(df.stages) < 2 or df.builder is None:
        return None
    installs = df.builder.state.pip_installs
    reqs = {"app/requirements.txt", "app/requirements-dev.txt"}
    by_name = [p for p in installs if p.venv is not None and p.packages and not p.requirement_files]
    from_file = [p for p in installs if p.venv is not None and reqs & set(p.requirement_origins)]
    if text.status == "fail" and by_name and not from_file:
        # which packages were asked for (a list of names, not app/requirements.txt) is the Dockerfile's
        # to show; the image only shows where they went
        return None
    final = df.final
    assert final is not None
    runs = {i.line for i in df.instructions_of(final) if i.cmd == "RUN"}
    copies = {c.line for c in df.copies_into(final) if c.stage is not None}
    made_in_final = {v.path for v in final.state.venvs if v.line in runs}
    copied = [v for v in final.state.venvs if v.line in copies]
    from_builder = [v for v in image.venvs if v.path not in made_in_final]
    line = text.line or (copied[0].line if copied else final.line)
    full = [v for v in from_builder if v.holds("flask", "redis")]
    if full:
        read = f"the built prod image's venv {full[0].path} holds Flask and redis (read from the image)"
        if text.status == "pass":
            return passed(f"{text.message}; {read}", F, line)
        return passed(read, F, copied[0].line if copied else line)
    seen = [image.venv(v.path) for v in copied]
    lacking = next((v for v in seen if v is not None), None)
    if lacking is None:
        return None
    missing = " and ".join(n for n in ("Flask", "redis") if not lacking.holds(n))
    has = ", ".join(lacking.packages[:6]) or "no package"
    return failed(
        f"in the built prod image, the venv {lacking.path} (copied from an earlier stage) lacks {missing} "
        f"(it holds {has})",
        text.hint
        if text.status == "fail" and text.hint
        else "Install app/requirements.txt into that venv in the builder, with the venv's own pip.",
        F,
        text.line if text.status == "fail" else line,
    )


def _builder_venv_text(df: Dockerfile) -> Outcome:
    """builder_venv from the Dockerfile's text: the --static-only verdict, the line to point at, the hint."""
    builder = df.builder
    if builder is None:
        return failed(
            f"{F} has no builder stage to install dependencies in",
            "Add `FROM python:3.13 AS builder` with a virtual environment.",
            F,
            df.stages[0].line,
        )
    st = builder.state
    if not st.venvs:
        return failed(
            f"the builder ({builder.label}, line {builder.line}) creates no virtual environment",
            "Create one, e.g. `RUN python -m venv /opt/venv`.",
            F,
            builder.line,
        )
    venvs = ", ".join(f"{v.path} (line {v.line})" for v in st.venvs)
    good = [
        p
        for p in st.pip_installs
        if p.venv is not None and ({"app/requirements.txt", "app/requirements-dev.txt"} & set(p.requirement_origins))
    ]
    if good:
        p = good[0]
        return passed(f"venv {p.venv}; line {p.line} installs app/requirements.txt into it", F, p.line)
    for p in st.pip_installs:
        if p.venv is None and "app/requirements.txt" in p.requirement_origins:
            return failed(
                f"{F}:{p.line} installs the requirements with the image's own pip, not into the venv ({venvs})",
                f"Use the venv's pip: `{st.venvs[0].path}/bin/pip install -r ...`, or put "
                f'`ENV PATH="{st.venvs[0].path}/bin:$PATH"` before this line.',
                F,
                p.line,
            )
    for p in st.pip_installs:
        if p.venv is not None and p.requirement_files:
            where = (
                f"app/requirements.txt was copied to {', '.join(p.requirements_at)}"
                if p.requirements_at
                else "app/requirements.txt was not copied into the builder before this line"
            )
            return failed(
                f"{F}:{p.line} installs {', '.join(p.requirement_files)}, but {where}",
                requirements_hint(df, builder, "app/requirements.txt", p.line, p.requirements_at),
                F,
                p.line,
            )
        if p.venv is not None and p.packages:
            return failed(
                f"{F}:{p.line} installs {' '.join(p.packages)} by name instead of from app/requirements.txt",
                "Install the pinned list: `pip install -r requirements.txt`.",
                F,
                p.line,
            )
    return failed(
        f"the builder creates {venvs} but never installs app/requirements.txt into it",
        f"COPY app/requirements.txt in, then `RUN {st.venvs[0].path}/bin/pip install -r requirements.txt`.",
        F,
        st.venvs[0].line,
    )


@check(
    "dockerfile.builder_tests",
    name="Builder runs the app's tests with pytest",
    points=5,
    checklist="3",
    phase="runtime",
    passes_when="pytest runs on app/tests in a stage the final stage depends on, a failing test fails the build, "
    "and the tests pass when the prod image is built",
    needs=(dockerfile_model,),
)
def builder_tests(ctx: Context, df: Dockerfile) -> Outcome:
    text = _builder_tests_text(ctx, df)
    evidence = _tests_evidence(ctx, df, text)
    return text if evidence is None else evidence


def _tests_evidence(ctx: Context, df: Dockerfile, text: Outcome) -> Outcome | None:
    """builder_tests decided from the prod build's own log: a step of a stage the build needed (BuildKit
    builds no other) ran pytest, which reported passing tests. None when the log does not decide:
    no log, no step that printed pytest's summary (cached, or not listed), or a step whose failure
    would not stop the build (`|| true`: the log cannot show that a failing test stops the build, the
    Dockerfile's text can)."""
    facts = ctx.facts
    build = facts.prod_build if facts is not None else None
    if build is None or not build.ok or build.evidence is None or not build.evidence.steps:
        return None
    ran = [t for t in build.evidence.test_steps if re.search(r"\b[1-9]\d* passed\b", t.summary)]
    if not ran:
        # a step missing from the log is no evidence: with a warm cache BuildKit may not even list the
        # builder's steps when the final stage's layers are cached
        return None
    step = ran[0]
    ins = df.instruction_for(step.step)
    run = next((r for s in df.stages for r in s.pytest_runs if ins is not None and r.line == ins.line), None)
    if run is not None and not run.fails_build:
        return None  # the text rule judges whether a failing test would stop the build
    where = f"{F}:{ins.line}" if ins is not None else "a step"
    stage = f" of stage {step.stage!r}" if step.stage else ""
    return passed(
        f"the prod build ran pytest at {where}{stage} and it said `{step.summary}`; the prod image built",
        F,
        ins.line if ins is not None else text.line,
    )


def _builder_tests_text(ctx: Context, df: Dockerfile) -> Outcome:
    """builder_tests from the Dockerfile's text and the build's outcome: the --static-only view, the line, the hint."""
    final = df.final
    assert final is not None
    needed = df.dependencies(final) | {final.index}
    runs = [(s, r) for s in df.stages for r in s.pytest_runs]
    if not runs:
        builder = df.builder or df.stages[0]
        return failed(
            "no stage runs pytest on the app's tests",
            "In the builder, install app/requirements-dev.txt with the image's own pip (not into the "
            "venv) and `RUN python -m pytest tests/`.",
            F,
            builder.line,
        )
    good = [(s, r) for s, r in runs if s.index in needed and r.runs_app_tests]
    if not good:
        s, r = runs[0]
        if s.index not in needed:
            return failed(
                f"{F}:{r.line} runs pytest in {s.label}, which the final stage does not depend on, so "
                "the build skips it",
                "Run the tests in the builder stage the final stage copies from.",
                F,
                r.line,
            )
        if set(r.original.split()) & PYTEST_RUNS_NOTHING:
            return failed(
                f"{F}:{r.line} calls pytest in a way that runs no test "
                f"({', '.join(sorted(set(r.original.split()) & PYTEST_RUNS_NOTHING))})",
                "Run the tests: `python -m pytest tests/`.",
                F,
                r.line,
            )
        return failed(
            f"{F}:{r.line} runs pytest, but not on the app's tests (app/tests was copied to "
            f"{', '.join(s.state.placements['app/tests']) or 'nowhere'})",
            "Copy the app (with tests/) into the builder and run `python -m pytest tests/` from its WORKDIR.",
            F,
            r.line,
        )
    stage, run = good[0]
    if not run.pytest_installed:
        where = f"the venv {run.venv}" if run.venv else "the image's own Python"
        build = ctx.facts.prod_build if ctx.facts is not None else None
        failing = df.instruction_for(build.failed_step) if build and not build.ok and build.failed_step else None
        if build is not None and failing is not None and failing.line == run.line:
            seen = next((ln.strip() for ln in reversed(build.step_log.splitlines()) if ln.strip()), "")
            evidence = [f"exit code {build.exit_code}"] if build.exit_code is not None else []
            evidence += [f"the log says `{seen[:100]}`"] if seen else []
            result = f"the build failed there ({'; '.join(evidence) or 'see runtime.up'})"
        else:
            result = "so this step fails when it is built"
        misnamed = misnamed_dev_install(stage, run)
        if misnamed is not None:
            return failed(
                f"{F}:{run.line} runs pytest with {where}, but the install on line {misnamed.line} names "
                f"{', '.join(misnamed.requirement_files)}, where no requirements file is: {result}",
                requirements_hint(df, stage, "app/requirements-dev.txt", misnamed.line, run.requirements_dev_at),
                F,
                misnamed.line,
            )
        return failed(
            f"{F}:{run.line} runs pytest with {where}, where nothing installs pytest: {result}",
            "pytest is in app/requirements-dev.txt, not app/requirements.txt. " + pytest_hint(df, stage, run),
            F,
            run.line,
        )
    heredoc = next((i for i in df.instructions if i.line == run.line and i.heredocs), None)
    if not run.fails_build and heredoc is not None:
        return failed(
            f"{F}:{run.line} runs the tests in a here-document, but a failing test would not stop the build: "
            "the shell runs its lines one by one and only the last line's status counts",
            "Make `set -e` the here-document's first line (or `RUN <<EOF bash -e`), so a failing test fails the build.",
            F,
            run.line,
        )
    if not run.fails_build:
        return failed(
            f"{F}:{run.line} runs the tests, but a failing test would not stop the build: the shell "
            "carries on after pytest (`|| true`, `; another command` or a pipe)",
            "Chain the test run with `&&` and let it be the last command, so a failing test fails the "
            f"build: `{test_step(df, stage, run)}`.",
            F,
            run.line,
        )
    facts = ctx.facts
    if facts is None:
        return skipped("pytest runs in the builder, but the prod build was not run (--static-only)", F, run.line)
    if facts.error:  # the machine's trouble: whether the tests pass is unknown, not the student's loss
        return errored(f"the prod build was not run: {facts.error}", facts.error_hint)
    if facts.refused or facts.prod_build is None:
        return skipped(f"the prod build was not run: {facts.refused or 'see runtime.up'}", F, run.line)
    build = facts.prod_build
    if not build.ok and build.infrastructure:
        return errored(
            f"the prod build failed for a reason outside your files ({build.infrastructure}), so "
            "whether the tests pass is unknown",
            "Grade again.",
        )
    if not build.ok:
        failing = df.instruction_for(build.failed_step) if build.failed_step else None
        if failing is not None and failing.line == run.line:
            # what the step's log shows (failing tests, no tests found, ...), told as runtime.up tells it
            from autograde.labs.lab04.build_diagnosis import explain_build

            return explain_build(ctx.submission, build, "the prod image")
        if any((ins := df.instruction_for(step)) is not None and ins.line == run.line for step in build.done_steps):
            return passed(
                f"{stage.label} ran the app's tests on line {run.line} and they passed; the prod build "
                "failed later, at another step (see runtime.up)",
                F,
                run.line,
            )
        return skipped("the prod build failed before the tests could count (see runtime.up)", F, run.line)
    return passed(f"{stage.label} runs the app's tests on line {run.line} and the prod build succeeded", F, run.line)


@check(
    "dockerfile.final_slim",
    name="Final stage uses a slim Python base image",
    points=5,
    checklist="4",
    phase="static",
    passes_when="the final stage's base is python:<tag> with `slim` or `alpine` in the tag",
    needs=(dockerfile_model,),
)
def final_slim(ctx: Context, df: Dockerfile) -> Outcome:
    stage = df.final
    assert stage is not None
    line = stage.line
    while stage.parent is not None:
        stage = df.stages[stage.parent]
    if stage.from_undefined:
        return _from_not_global(df, stage)
    repo, tag = split_image(stage.base)
    seen = f"{repo}:{tag}" if tag else repo
    if repo == "python" and tag and ("slim" in tag or "alpine" in tag):
        kind = "slim" if "slim" in tag else "alpine"
        return passed(f"the final stage is based on {seen} ({kind})", F, line)
    if repo != "python":
        return failed(
            f"the final stage is based on {seen}, not an official python image",
            "Use `FROM python:3.13-slim` for the final stage.",
            F,
            line,
        )
    return failed(
        f"the final stage is based on {seen}, the full image with compilers and headers",
        "Use a minimal tag such as `python:3.13-slim` for the final stage.",
        F,
        line,
    )


@check(
    "dockerfile.final_copies",
    name="Final stage copies the venv and main.py and runs the app",
    points=10,
    checklist="5",
    phase="static",
    passes_when="the final stage copies the venv and main.py from an earlier stage, puts the venv on "
    "PATH or runs its interpreter, exposes 5000 and runs main.py",
    needs=(dockerfile_model,),
)
def final_copies(ctx: Context, df: Dockerfile) -> Outcome:
    text = _final_copies_text(ctx, df)
    evidence = _final_copies_evidence(ctx, df, text)
    return text if evidence is None else evidence


def _final_copies_text(ctx: Context, df: Dockerfile) -> Outcome:
    """final_copies from the Dockerfile's text: the --static-only verdict, the lines and the hints."""
    final = df.final
    assert final is not None  # dockerfile_model gives a Dockerfile with at least one stage
    if len(df.stages) < 2:
        return failed(
            "There is no final stage separate from the builder to copy into.",
            "Add a final stage (`FROM python:3.13-slim`) that copies from the builder.",
            F,
            final.line,
        )
    problems = _final_problems(df, final)
    if problems:
        return _told(problems)
    words, _ = app_words(final.state)
    copied = _copied_venvs(df, final)[0]
    mains = final.state.placements["app/main.py"]
    return passed(
        f"{_the_final(final)} copies the venv to {copied.path} (line {copied.line}) and main.py to "
        f"{mains[0]}, exposes 5000 and runs `{' '.join(words)}`.",
        F,
        copied.line,
    )


def _final_copies_evidence(ctx: Context, df: Dockerfile, text: Outcome) -> Outcome | None:
    """final_copies decided from the built image and the app running in it, keeping the text's verdict on
    what only the Dockerfile shows (where main.py was copied from). None: no such evidence."""
    final = df.final
    if final is None or len(df.stages) < 2:
        return None
    seen = _final_evidence(ctx, df, final)
    if seen is None:
        return None
    problems = [p for p in _final_problems(df, final) if p.kind not in seen.decides] + seen.problems
    if problems:
        return _told(problems)
    return passed(seen.summary, F, seen.line or final.line)


def _told(problems: list[_Problem]) -> Outcome:
    problems = sorted(problems, key=lambda p: _KINDS.index(p.kind))
    return failed(
        " ".join(p.message for p in problems),
        " ".join(dict.fromkeys(p.hint for p in problems if p.hint)),
        F,
        problems[0].line,
    )


@dataclass(frozen=True)
class _Problem:
    kind: str  # which part of the row: venv, path, main_missing, main_from_context, expose, command
    message: str  # one plain sentence
    hint: str
    line: int


_KINDS = ("venv", "path", "main_missing", "main_from_context", "expose", "command")


@dataclass(frozen=True)
class _Evidence:
    decides: frozenset[str]  # the parts of the row the built image and the running app decided
    problems: list[_Problem]
    summary: str  # what was seen, for a pass
    line: int | None


def _the_final(final: Stage, lower: bool = False) -> str:
    """How messages name the stage that is built: "The final stage (final, line 9)"."""
    return f"{'the' if lower else 'The'} final stage ({final.alias or 'unnamed'}, line {final.line})"


def _copied_venvs(df: Dockerfile, final: Stage) -> list[Venv]:
    """The venvs the final stage (with what it is built FROM) holds because a COPY --from put them there."""
    lines = {c.line for c in df.copies_into(final) if c.stage is not None}
    return [v for v in final.state.venvs if v.line in lines]


def _final_problems(df: Dockerfile, final: Stage) -> list[_Problem]:
    """final_copies from the Dockerfile's text: the --static-only verdict, the lines to point at, the hints."""
    st = final.state
    venvs = _copied_venvs(df, final)
    problems: list[_Problem] = []
    where = _the_final(final)
    if not venvs:
        builder = df.builder
        made = builder.state.venvs if builder is not None else []
        ref = (builder.alias or str(builder.index)) if builder is not None else "builder"
        has = f"; stage {ref} has one at {made[0].path}" if made else ""
        example = (
            f"COPY --from={ref} {made[0].path} {made[0].path}" if made else "COPY --from=builder /opt/venv /opt/venv"
        )
        tried = df.copies_into(final)
        line = tried[0].line if tried else final.line
        problems.append(
            _Problem(
                "venv", f"{where} copies no virtual environment from an earlier stage{has}.", f"Add `{example}`.", line
            )
        )
    words, script = app_words(st)
    run_ins = st.cmd or st.entrypoint
    command_line = run_ins.line if run_ins else final.line
    written = f" (through {script[0]}, line {script[1]})" if script else ""
    if venvs and words:
        env = st.interpreter_env(words[0], st.workdir, st.env.get("PATH", ""))
        if env not in {v.path for v in venvs}:
            v = venvs[0].path
            on_path = [d for d in st.env.get("PATH", "").split(":") if d.endswith("/bin") and "venv" in d]
            detail = f"; PATH has {on_path[0]} but the venv is at {v}" if on_path else ""
            problems.append(
                _Problem(
                    "path",
                    f"{where} runs `{words[0]}`{written} from outside the venv{detail}.",
                    f'Add `ENV PATH="{v}/bin:$PATH"` (or run `{v}/bin/python main.py`).',
                    command_line,
                )
            )
    mains = st.placements["app/main.py"]
    built = [m for m in mains if m not in st.from_context]  # copied from an earlier stage, as the row asks
    if not mains:
        message, hint, line = _missing_main(df, final)
        problems.append(_Problem("main_missing", message, hint, line))
    elif not built:
        line = st.from_context[mains[0]]
        problems.append(
            _Problem(
                "main_from_context",
                f"{where} copies main.py from the build context (line {line}), not from an earlier stage.",
                "Copy main.py from the builder, the code its tests ran on: "
                "`COPY --from=builder <builder WORKDIR>/main.py .`.",
                line,
            )
        )
    if not any(p.split("/")[0] == "5000" for p, _ in st.exposes):
        problems.append(
            _Problem("expose", f"{where} does not EXPOSE 5000.", "Add `EXPOSE 5000` to the final stage.", final.line)
        )
    if not words:
        problems.append(
            _Problem(
                "command",
                f"{where} has no CMD or ENTRYPOINT that starts the app.",
                'Add `CMD ["python", "main.py"]`.',
                final.line,
            )
        )
    else:
        runs = _runs_main(words, st.workdir, mains)
        if runs is not True:
            problems.append(
                _Problem(
                    "command",
                    f"The command of {_the_final(final, lower=True)}, `{' '.join(words)}`{written}, "
                    + (runs if isinstance(runs, str) else "does not run main.py")
                    + ".",
                    'Run the app: `CMD ["python", "main.py"]` in the WORKDIR where main.py is.',
                    command_line,
                )
            )
    return problems


def _final_evidence(ctx: Context, df: Dockerfile, final: Stage) -> _Evidence | None:
    """final_copies decided from the built prod image and the app running in it: the running process' script
    (byte-identical to app/main.py), its interpreter (a venv's, holding Flask), and the image's exposed
    ports. Where the main.py came from (an earlier stage or the build context) only the Dockerfile shows,
    so that part stays the text's. None when there is no built image or the app did not run."""
    facts = ctx.facts
    build = facts.prod_build if facts is not None else None
    image = facts.image if facts is not None else None
    app = facts.app if facts is not None else None
    if build is None or not build.ok or image is None or image.error or image.config is None:
        return None
    if app is None or app.error or not app.argv:
        return None
    config = image.config
    problems: list[_Problem] = []
    st = final.state
    words, _ = app_words(st)
    command_line = (st.cmd or st.entrypoint).line if (st.cmd or st.entrypoint) else final.line  # type: ignore[union-attr]
    run = " ".join(app.argv)
    lab_main = _sha256(ctx.submission.root / "app" / "main.py")
    copied = _copied_venvs(df, final)
    made_here = {
        v.path
        for s in df.lineage(final)
        for v in s.state.venvs
        if v.line not in {c.line for c in df.copies_into(final)}
    }
    venv = image.venv(app.venv) if app.venv else None
    if not app.script:
        problems.append(
            _Problem(
                "command",
                f"The running app's process is `{run}`, which runs no Python file.",
                'Run the app: `CMD ["python", "main.py"]`.',
                command_line,
            )
        )
    elif lab_main and app.script_sha256 != lab_main:
        what = "a main.py that differs from app/main.py" if app.script.endswith("/main.py") else "not the app's main.py"
        problems.append(
            _Problem(
                "command",
                f"The running app's process `{run}` runs {app.script}, {what}.",
                "Copy app/main.py into the builder and from there into the final stage, and run it.",
                command_line,
            )
        )
    if not app.venv:
        problems.append(
            _Problem(
                "path",
                f"The running app's Python is {app.interpreter or app.argv[0]}, not a virtual environment's.",
                f'Put the venv first on PATH in the final stage (`ENV PATH="{copied[0].path if copied else "/opt/venv"}/bin:$PATH"`).',
                st.path_line or command_line,
            )
        )
    elif venv is None or not venv.holds("flask"):
        problems.append(
            _Problem(
                "venv",
                f"The running app's venv {app.venv} does not hold Flask.",
                "Copy the venv the builder installed app/requirements.txt into.",
                copied[0].line if copied else final.line,
            )
        )
    elif app.venv in made_here and not copied:
        return None  # a venv made in the final stage itself: whether it was copied is the text's to say
    if not any(p.split("/")[0] == "5000" for p in config.exposed):
        exposed = ", ".join(config.exposed) or "no port"
        problems.append(
            _Problem(
                "expose",
                f"The prod image exposes {exposed}, not 5000.",
                "Add `EXPOSE 5000` to the final stage.",
                final.line,
            )
        )
    interpreter = app.interpreter or app.argv[0]
    summary = (
        f"In the running prod image, `{run}` runs {app.script} (the app's main.py, byte for byte) with {interpreter} "
        f"of the venv {app.venv}, which holds Flask; the image exposes 5000"
    )
    if words and words != app.argv:
        summary += f" (the final stage's command is `{' '.join(words)}`)"
    return _Evidence(
        frozenset({"venv", "path", "command", "expose", "main_missing"}),
        problems,
        summary + ".",
        copied[0].line if copied else None,
    )


def _sha256(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


def _from_not_global(df: Dockerfile, stage: Stage) -> Outcome:
    """A FROM line whose variables are not ARGs declared before the first FROM: Docker expands them to nothing."""
    names = ", ".join(stage.from_undefined)
    first_from = df.stages[0].line
    declared = [i for name in stage.from_undefined for i in df.arg_declarations(name) if i.line > first_from]
    if declared:
        ins = declared[0]
        why = (
            f"{ins.original.strip()!r} is on line {ins.line}, after the first FROM (line {first_from}), so it belongs "
            "to that stage only, and a FROM line sees only ARGs declared before the first FROM"
        )
        hint = f"Move `{ins.original.strip()}` above the first FROM (line {first_from}); a stage that uses it in RUN "
        hint += f"or ENV declares it again with `ARG {stage.from_undefined[0]}`."
    else:
        why = f"no ARG {names} is declared before the first FROM"
        hint = f"Declare `ARG {stage.from_undefined[0]}=...` above the first FROM, or write the tag out."
    return failed(
        f"{F}:{stage.line}: the final stage's `FROM {stage.base_written}` expands to `{stage.base}`, which is not "
        f"an image name: {why}. Docker stops the build at this line",
        hint,
        F,
        stage.line,
    )


def _missing_main(df: Dockerfile, final: Stage) -> tuple[str, str, int]:
    """Why main.py is not in the final stage: a COPY --from naming a path its stage lacks, or no copy at all."""
    for c in df.copies_into(final):
        if c.stage is None:
            continue
        source = df.stages[c.stage]
        has = source.state.placements["app/main.py"]
        for src in c.sources:
            if (src.endswith("main.py") and src not in has) or (src.endswith("/app") and not has):
                ref = source.alias or str(source.index)
                where = f"; main.py is at {', '.join(has)} there" if has else "; that stage has no main.py"
                fix = f"`COPY --from={ref} {has[0]} .`" if has else "COPY main.py into that stage first"
                return (
                    f"{_the_final(final)} copies {src} from stage {ref} on line {c.line}, a path that "
                    f"stage does not have{where}.",
                    f"The source of COPY --from is a path inside that stage: {fix}.",
                    c.line,
                )
    return (
        f"{_the_final(final)} does not copy main.py.",
        "Add `COPY --from=builder <builder WORKDIR>/main.py .`.",
        final.line,
    )


def _runs_main(words: list[str], workdir: str, mains: list[str]) -> bool | str:
    for i, w in enumerate(words):
        if w.endswith("main.py"):
            path = resolve(w, workdir)
            if not mains or path in mains:
                return True
            return f"runs {path}, but main.py is at {mains[0]}"
        if w == "main" and i > 0 and words[i - 1] == "-m":  # `python -m main` runs main.py as __main__
            return True
    return False


# Checks whose row is about an outcome: decided from the built image and the build when there is one
EVIDENCE_CHECKS: dict[str, tuple[Callable[[Context, Dockerfile], Outcome], Callable[..., Outcome | None]]] = {
    "dockerfile.builder_venv": (lambda ctx, df: _builder_venv_text(df), _venv_evidence),
    "dockerfile.builder_tests": (_builder_tests_text, _tests_evidence),
    "dockerfile.final_copies": (_final_copies_text, _final_copies_evidence),
}


def disagreements(ctx: Context) -> list[dict[str, object]]:
    """Where the text rules and the evidence disagree (see autograde.checks.disagreements)."""
    from autograde.checks import disagreements as of_the_lab

    return of_the_lab(ctx)
