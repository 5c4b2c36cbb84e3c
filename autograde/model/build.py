"""What the grader builds for the lab's web service: the student's own build section whenever it builds the
lab's Dockerfile (LAB04: web_prod and Dockerfile.prod; the names come from the lab pack's scenario).

Pure policy, no Docker: the runtime session writes its override from this, and the Dockerfile
model resolves COPY sources in the same build context, so static and runtime verdicts agree.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, replace
from pathlib import Path

from autograde import labs
from autograde.model.compose import ComposeFile, split_image
from autograde.model.dockerfile import Dockerfile, Stage, is_remote_source
from autograde.model.files import inside


@dataclass(frozen=True)
class ProdBuild:
    context: str  # relative to the repository root, normalized ("." is the root)
    dockerfile: str  # relative to the repository root
    students: bool  # True: built exactly as the student's compose file describes
    reason: str = ""  # when not the student's: why the grader builds the lab's Dockerfile as documented instead
    args: tuple[tuple[str, str], ...] = ()  # the student's `build.args` (used with the student's build section)
    target: str | None = None  # the stage the grader builds (`build.target`); None: the last stage
    written_target: str | None = None  # `build.target` as the student's file sets it
    target_problem: str = ""  # why the student's target is not built: the grader builds the last stage instead


def prod_build(prod: ComposeFile | None) -> ProdBuild:
    """The student's build of the web service if it builds the lab's Dockerfile from a context inside the
    repository.

    Otherwise (no build section, another Dockerfile, a remote or absolute context) the grader builds the
    lab's Dockerfile with the documented context, as the lab describes: the build section then loses its
    own check only, and the Dockerfile is still graded on its own.
    """
    scenario = labs.current().scenario
    web, documented, name = scenario.web, scenario.context, scenario.dockerfile

    def documented_build(reason: str) -> ProdBuild:
        return ProdBuild(documented, name, False, reason)

    if prod is None or web not in prod.services:
        return documented_build(f"{scenario.stack_file} has no usable {web} service")
    build = prod.build(prod.services[web])
    if build is None:
        return documented_build(f"{web} has no build section")
    context, dockerfile = build.context, build.dockerfile
    if "://" in context or context.startswith(("git@", "/", "~", "$")) or posixpath.isabs(dockerfile):
        return documented_build(f"{web} builds from {context!r}, not from this repository")
    context = posixpath.normpath(context)
    if context == ".." or context.startswith("../"):
        return documented_build(f"{web}'s build context {context!r} is outside the repository")
    target = posixpath.normpath(posixpath.join(context, dockerfile))
    if target != name:
        return documented_build(f"{web} builds {target}, not {name}")
    return ProdBuild(
        context,
        name,
        True,
        args=tuple(sorted(build.args.items())),
        target=build.target,
        written_target=build.target,
    )


def fit_target(build: ProdBuild, df: Dockerfile) -> ProdBuild:
    """The student's `build.target`, unless it is not the final stage of a multi-stage build.

    A target that names no stage, or a build stage (one that later stages copy from, or a full-image
    stage beside a slim last stage) builds an image the lab does not describe: one mistake, of the build
    section. The grader then builds the last stage, as Docker does without a target, so that mistake
    costs `compose.web_build` only.
    """
    if build.target is None:
        return build
    stage = df.stage(build.target)
    names = ", ".join(s.alias or str(s.index) for s in df.stages)
    problem = ""
    if stage is None:
        problem = f"`target: {build.target}` names no stage of {build.dockerfile} (its stages: {names})"
    elif stage is not df.stages[-1]:
        users = df.copied_from_by_others(stage)
        if users:
            problem = (
                f"`target: {build.target}` builds the stage {stage.alias or stage.index} (line {stage.line}), a build "
                f"stage that {_stage_names(users)} copies from, not the final stage"
            )
        elif _slim(df, df.stages[-1]) and not _slim(df, stage):
            problem = (
                f"`target: {build.target}` builds the stage {stage.alias or stage.index} (line {stage.line}), on "
                f"{_root(df, stage).base}, not the slim final stage"
            )
    if not problem:
        return build
    return replace(build, target=None, target_problem=problem)


def _stage_names(stages: list[Stage]) -> str:
    return " and ".join(f"stage {s.alias or s.index}" for s in stages)


def _root(df: Dockerfile, stage: Stage) -> Stage:
    return df.lineage(stage)[-1]


def _slim(df: Dockerfile, stage: Stage) -> bool:
    repo, tag = split_image(_root(df, stage).base)
    return repo == "python" and ("slim" in tag or "alpine" in tag)


def missing_sources(df: Dockerfile, root: Path, context: str) -> list[str]:
    """COPY/ADD sources (from the build context, plain paths only) that do not exist in `context`."""
    base = root / context
    missing = []
    for ins in df.instructions:
        if ins.cmd not in ("COPY", "ADD") or "from" in ins.flags or len(ins.args) < 2:
            continue
        for src in ins.args[:-1]:
            if "$" in src or any(ch in src for ch in "*?[") or src.startswith("<<") or is_remote_source(src):
                continue  # variables, patterns, here-documents, URLs and git sources
            rel = posixpath.normpath("/" + src).lstrip("/") or "."
            path = base / rel
            try:
                if not (inside(root, path) and path.exists()):
                    missing.append(src)
            except OSError:
                missing.append(src)
    return missing


def fit_to_sources(build: ProdBuild, df: Dockerfile, root: Path) -> ProdBuild:
    """The student's context, unless the Dockerfile's COPY sources are paths of the documented context.

    A build section with `context: ./app` and a Dockerfile written for the lab's context (`COPY
    app/requirements.txt ...`) is one mistake, the context: the grader then builds as the lab says,
    so that mistake costs the build section's check only.
    """
    documented = labs.current().scenario.context
    if not build.students or build.context == documented:
        return build
    here = missing_sources(df, root, build.context)
    if here and not missing_sources(df, root, documented):
        where = "the repository root" if documented == "." else f"{documented}/"
        return replace(
            build,
            context=documented,
            students=False,
            reason=f"its COPY sources ({', '.join(here[:2])}) are paths of {where}, not of {build.context}/",
        )
    return build
