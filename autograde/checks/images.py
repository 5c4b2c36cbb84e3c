"""Checks of the built images: relative size, and what the prod image carries."""
from __future__ import annotations

from autograde.checks.base import Context, Outcome, errored, failed, passed, skipped
from autograde.checks.runtime import precondition


def mb(size: int) -> str:
    return f"{size / 1e6:.0f} MB"


def size_ratio(ctx: Context) -> Outcome:
    facts = precondition(ctx)
    if isinstance(facts, Outcome):
        return facts
    prod, dev = facts.prod_build, facts.dev_build
    if prod is None or not prod.ok or prod.size_bytes is None:
        return skipped("the prod image did not build (see runtime.up)")
    if dev is None:
        return errored("the dev image was not built")
    if not dev.ok or not dev.size_bytes:
        why = "timed out" if dev.timed_out else (dev.error or "failed")
        return failed(f"the dev image (web_dev in docker-compose.yml, from app/Dockerfile) did not build: {why}",
                      "The dev files come complete with the lab; restore app/Dockerfile and docker-compose.yml "
                      "if you changed them.", "docker-compose.yml", None, dev.output_tail)
    limit = ctx.rubric.thresholds["size_ratio_max"]
    ratio = prod.size_bytes / dev.size_bytes
    sizes = f"prod {mb(prod.size_bytes)} / dev {mb(dev.size_bytes)} = {ratio:.2f}"
    if ratio <= limit:
        return passed(f"{sizes} (at most {limit:g})")
    return failed(f"{sizes}; the prod image must be at most {limit:g} x the dev image",
                  "Base the final stage on python:3.13-slim and copy only the venv and main.py into it.",
                  "Dockerfile.prod", ctx.submission.dockerfile.stages[-1].line
                  if ctx.submission.dockerfile and ctx.submission.dockerfile.stages else None)


def prod_lean(ctx: Context) -> Outcome:
    facts = precondition(ctx)
    if isinstance(facts, Outcome):
        return facts
    if facts.prod_build is None or not facts.prod_build.ok:
        return skipped("the prod image did not build (see runtime.up)")
    lean = facts.lean
    if lean is None:
        return errored("the prod image was not inspected" + (" (interrupted)" if facts.interrupted else ""))
    if lean.error:
        return failed(f"could not run `{lean.python}` in the prod image: {lean.error}",
                      "The final stage needs a Python that can import the app's dependencies.")
    problems = []
    if not lean.flask_ok:
        problems.append(f"Flask does not import with {lean.python}")
    if lean.flask_ok and not lean.in_venv:
        problems.append(f"{lean.python} is not a virtual environment's interpreter")
    if lean.pytest_importable:
        problems.append("pytest is importable (a test tool in the production image)")
    if lean.tests_dirs:
        problems.append(f"the app's tests are in the image ({', '.join(lean.tests_dirs[:3])})")
    if problems:
        return failed("the prod image: " + "; ".join(problems),
                      "Install only app/requirements.txt into the venv, run pytest outside it, and copy just "
                      "the venv and main.py into the final stage.", "Dockerfile.prod")
    return passed(f"the prod image runs {lean.python} from a venv with Flask, without pytest and without tests/")
