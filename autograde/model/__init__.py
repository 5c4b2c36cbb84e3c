"""Student inputs parsed once: the compose file the lab runs (and the one it compares with, if any), and the
Dockerfile its web service builds. Which files those are is the lab pack's scenario (autograde.labs)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from autograde import labs
from autograde.model import compose, dockerfile
from autograde.model.build import ProdBuild, fit_target, fit_to_sources, prod_build
from autograde.model.files import FileProblem, Problem

T = TypeVar("T")


@dataclass
class Submission:
    root: Path
    dockerfile: dockerfile.Dockerfile | None  # the Dockerfile the web service builds (LAB04: Dockerfile.prod)
    dockerfile_problem: Problem | None
    prod: compose.ComposeFile | None  # the compose file the lab runs (LAB04: docker-compose.prod.yml)
    prod_problem: Problem | None
    dev: compose.ComposeFile | None  # the compose file the lab compares with (LAB04: docker-compose.yml), if any
    dev_problem: Problem | None
    build: ProdBuild  # how the web service is built, and so the context the Dockerfile's COPY sources are read in


def load_submission(root: Path) -> Submission:
    """Read the student's files once: the compose files as Compose resolves them (both at once), then the
    Dockerfile in the build context and with the target that the web service is built with."""
    scenario = labs.current().scenario
    compared = scenario.compare_file
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="autograde-dev-model") as pool:
        dev_future = pool.submit(_attempt, lambda: compose.load(root, compared)) if compared else None
        prod, prod_problem = _attempt(lambda: compose.load(root, scenario.stack_file))
        build = prod_build(prod)
        df, df_problem = _attempt(lambda: dockerfile.load(root, build.context, dict(build.args)))
        if df is not None:
            fitted = fit_to_sources(build, df, root)
            if fitted != build:
                build = fitted
                df, df_problem = _attempt(lambda: dockerfile.load(root, build.context, dict(build.args)))
        if df is not None:
            build = fit_target(build, df)
            df.target = build.target
        dev, dev_problem = dev_future.result() if dev_future is not None else (None, None)
    return Submission(root, df, df_problem, prod, prod_problem, dev, dev_problem, build)


def _attempt(fn: Callable[[], T]) -> tuple[T | None, Problem | None]:
    try:
        return fn(), None
    except FileProblem as e:
        return None, e.problem
