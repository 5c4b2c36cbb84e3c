"""Checks of the built images: relative size, and what the prod image carries."""

from __future__ import annotations

import re

from autograde.checks.base import Context, Outcome, check, errored, failed, not_built, passed, runtime_facts
from autograde.results import megabytes
from autograde.runtime.facts import Facts


def mb(size: float) -> str:
    return f"{megabytes(size):,.1f} MB"


@check(
    "images.size_ratio",
    name="Prod image is at most half the size of the dev image",
    points=15,
    checklist="10",
    phase="runtime",
    passes_when="prod image size <= {size_ratio_max} x dev image size",
    needs=(runtime_facts,),
)
def size_ratio(ctx: Context, facts: Facts) -> Outcome:
    prod, dev = facts.prod_build, facts.dev_build
    if prod is None or not prod.ok or prod.size_bytes is None:
        return not_built(prod, "the prod image")
    if dev is None:
        return errored("the dev image was not built")
    if not dev.ok and dev.infrastructure:
        return not_built(dev, "the dev image")
    if not dev.ok or not dev.size_bytes:
        why = "timed out" if dev.timed_out else (dev.error or "failed")
        return failed(
            f"the dev image (web_dev in docker-compose.yml, from app/Dockerfile) did not build: {why}",
            "The dev files come complete with the lab; restore app/Dockerfile and docker-compose.yml "
            "if you changed them.",
            "docker-compose.yml",
            None,
            dev.output_tail,
        )
    limit = ctx.rubric.thresholds["size_ratio_max"]
    ratio = prod.size_bytes / dev.size_bytes
    sizes = f"prod {mb(prod.size_bytes)} / dev {mb(dev.size_bytes)} = {ratio:.2f}"
    if ratio <= limit:
        return passed(f"{sizes} (at most {limit:g}: {mb(dev.size_bytes * limit)})")
    return failed(
        f"{sizes}; the prod image must be at most {limit:g} x the dev image ({mb(dev.size_bytes * limit)})",
        "Base the final stage on python:3.13-slim and copy only the venv and main.py into it.",
        "Dockerfile.prod",
        ctx.submission.dockerfile.final.line if ctx.submission.dockerfile and ctx.submission.dockerfile.final else None,
    )


@check(
    "images.prod_lean",
    name="Prod image: Flask imports, pytest does not, no tests/",
    points=5,
    checklist="-",
    phase="runtime",
    passes_when="Flask imports with the Python the app runs with, pytest does not, and the app's tests/ is absent",
    needs=(runtime_facts,),
)
def prod_lean(ctx: Context, facts: Facts) -> Outcome:
    """Judges exactly its row: Flask imports with the Python the app runs with, pytest does not, no tests/.

    Whether that Python is a venv's is `dockerfile.final_copies`' business, not this check's.
    """
    if facts.prod_build is None or not facts.prod_build.ok:
        return not_built(facts.prod_build, "the prod image")
    lean = facts.lean
    if lean is None:
        return errored("the prod image was not inspected" + (" (interrupted)" if facts.interrupted else ""))
    how = f" (found from {lean.found_by})" if lean.found_by else ""
    if lean.error:
        return failed(
            f"could not run `{lean.python}`{how} in the prod image: {lean.error}",
            "The final stage needs a Python that can import the app's dependencies.",
        )
    problems = []
    hints = []
    file, line = "Dockerfile.prod", None
    if not lean.flask_ok:
        missing = re.search(r"No module named '([\w.]+)'", lean.flask_error)
        if lean.flask_error and not (missing and missing.group(1).split(".")[0] == "flask"):
            # Flask is there, something it needs is not (or breaks): say what Python said
            problems.append(f"Flask does not import with `{lean.python}`{how}: {lean.flask_error}")
            hints.append(
                "Flask is installed there but cannot be imported: install app/requirements.txt into the venv with "
                "its dependencies (without --no-deps), with the same Python version as the final stage."
            )
        else:
            problems.append(f"Flask does not import with `{lean.python}`{how}")
            hints.append("Run the app with the venv's Python (put the venv's bin first on PATH in the final stage).")
    if lean.pytest_importable:
        problems.append(f"pytest is importable with `{lean.python}` (a test tool in the production image)")
        cause = _pytest_cause(ctx)
        if cause is not None:
            text, hint, line = cause
            problems[-1] += f": {text}"
            hints.append(hint)
        else:
            hints.append(
                "Install only app/requirements.txt into the venv, and the dev requirements with the "
                "builder image's own pip, outside the venv."
            )
    if lean.tests_dirs:
        problems.append(f"the app's tests are in the image ({', '.join(lean.tests_dirs[:3])})")
        hints.append("Copy only main.py (and the venv) into the final stage, not the whole app folder.")
    if problems:
        return failed("the prod image: " + "; ".join(problems), " ".join(hints), file, line)
    shown = " (the app it runs answered over HTTP)" if lean.flask_by == "app" else ""
    return passed(
        f"the prod app's Python `{lean.python}`{how} imports Flask{shown}, not pytest, and the image has no tests/"
    )


def _pytest_cause(ctx: Context) -> tuple[str, str, int] | None:
    """Which line put pytest into the venv the final stage copies, and why (the PATH line), if the model knows."""
    from autograde.labs.lab04.hints import copied_venvs, path_note, pytest_into_venv, system_python

    df = ctx.submission.dockerfile
    if df is None:
        return None
    found = pytest_into_venv(df, copied_venvs(df))
    if found is None:
        return None
    install, stage = found
    what = "the dev requirements" if "app/requirements-dev.txt" in install.requirement_origins else "pytest"
    note = path_note(install, install.venv)
    if note:
        py = system_python(df, stage)
        return (
            f"Dockerfile.prod:{install.line} installs {what} with `{install.tool}`, which is the venv's: {note}",
            f"Install the dev requirements with the image's own Python by its full path (`{py} -m pip install "
            f"-r requirements-dev.txt`, then `{py} -m pytest tests/`), or move the ENV PATH line "
            f"(line {install.path_line}) to the final stage.",
            install.line,
        )
    return (
        f"Dockerfile.prod:{install.line} installs {what} into the venv {install.venv}",
        "Install only app/requirements.txt into the venv; install the dev requirements with the image's own "
        "pip, outside the venv.",
        install.line,
    )
