"""What the session refuses to run, decided from the parsed submission alone."""

from __future__ import annotations

from autograde.model import load_submission
from autograde.runtime.policy import refusals
from support import make_checkout, solution_files

DC = solution_files()["docker-compose.prod.yml"]


def test_solution_runs(tmp_path):
    root = make_checkout(tmp_path / "c")
    r = refusals(load_submission(root), root)
    assert r.prod is None and r.dev is None


def test_prod_refusals(tmp_path):
    cases = {
        "missing": {"docker-compose.prod.yml": None},
        "no redis": {"docker-compose.prod.yml": DC.split("  redis_prod:")[0]},
        "privileged": {"docker-compose.prod.yml": DC.replace("    build:", "    privileged: true\n    build:", 1)},
        "starter": {"Dockerfile.prod": "# only comments\n"},
    }
    for name, files in cases.items():
        root = make_checkout(tmp_path / name.replace(" ", "_"), files=files)
        r = refusals(load_submission(root), root)
        assert r.prod, name
    root = make_checkout(tmp_path / "dev", files={"docker-compose.yml": "services:\n  web:\n    build: ./app\n"})
    r = refusals(load_submission(root), root)
    assert r.prod is None and r.dev == "docker-compose.yml has no web_dev service"
