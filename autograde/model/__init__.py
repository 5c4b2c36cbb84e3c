"""Student inputs parsed once: Dockerfile.prod and the two compose files."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from autograde.model import compose, dockerfile
from autograde.model.build import ProdBuild, fit_target, fit_to_sources, prod_build
from autograde.model.files import FileProblem, Problem

T = TypeVar("T")


@dataclass
class Submission:
    root: Path
    dockerfile: dockerfile.Dockerfile | None
    dockerfile_problem: Problem | None
    prod: compose.ComposeFile | None
    prod_problem: Problem | None
    dev: compose.ComposeFile | None
    dev_problem: Problem | None
    build: ProdBuild  # how web_prod is built, and so the context Dockerfile.prod's COPY sources are read in


def load_submission(root: Path) -> Submission:
    """Read the student's files once: the compose files as Compose resolves them (both at once), then
    Dockerfile.prod in the build context and with the target that web_prod is built with."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="autograde-dev-model") as pool:
        dev_future = pool.submit(_attempt, lambda: compose.load(root, compose.DEV_FILE))
        prod, prod_problem = _attempt(lambda: compose.load(root, compose.PROD_FILE))
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
        dev, dev_problem = dev_future.result()
    return Submission(root, df, df_problem, prod, prod_problem, dev, dev_problem, build)


def _attempt(fn: Callable[[], T]) -> tuple[T | None, Problem | None]:
    try:
        return fn(), None
    except FileProblem as e:
        return None, e.problem
