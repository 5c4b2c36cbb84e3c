"""The grader's override and Compose: when Compose refuses the student's file merged with it, though it
accepts the file alone, the run is the grader's error with Compose's own words; a file Compose refuses on its
own stays the student's (the build says why). The merge is asked about only when a build failed before its
first step (Compose checks the files first), so a good file pays no extra Compose run before its build.
"""

from __future__ import annotations

import pytest

from autograde.model import load_submission
from autograde.runtime import builds
from autograde.runtime.session import Session, SessionOptions

pytestmark = pytest.mark.docker

DEPLOY_LIMITS = """services:
  web_prod:
    build: {context: ., dockerfile: Dockerfile.prod}
    image: lab04-web-prod
    ports: ["5005:5000"]
    environment: [REDIS_HOST=redis_prod]
    depends_on: [redis_prod]
    deploy:
      resources:
        limits: {cpus: '0.50', memory: 256M}
  redis_prod:
    image: redis:alpine
"""


def _session(tmp_path, files, **options):
    from support import make_checkout

    sub = load_submission(make_checkout(tmp_path / "repo", solution=True, files=files))
    return Session(sub, SessionOptions(host_port=None, **options))


def test_an_override_compose_refuses_is_the_graders_error_with_composes_message(tmp_path):
    # a cap Compose cannot read stands in for any grader setting that does not merge with a valid file
    s = _session(tmp_path, {"docker-compose.prod.yml": DEPLOY_LIMITS}, memory="lots")
    try:
        facts = s.run()
    finally:
        assert s.cleanup() == []
    assert facts.prod_build is not None and not facts.prod_build.done_steps  # Compose stopped before any step
    assert facts.up is None  # nothing was started
    assert facts.error is not None
    assert "accepts docker-compose.prod.yml as written" in facts.error
    assert "not your file's" in facts.error and "Compose said:" in facts.error
    assert "lots" in facts.error  # Compose's own message names the value it refused
    assert "Nothing to fix in your files" in facts.error_hint


def test_deploy_limits_merge_and_the_merged_file_is_accepted(tmp_path):
    s = _session(tmp_path, {"docker-compose.prod.yml": DEPLOY_LIMITS})
    try:
        assert s.engine.connect() is None
        prepared = builds.prod_files(s.engine, s.sub, s.tmp, s.project, s.prod_tag, 5999, s.caps())
        assert prepared.files is not None and prepared.error is None
        merged, _ = builds._resolved(s.engine, s.tmp, prepared.files, "check")
    finally:
        assert s.cleanup() == []
    assert merged is not None
    web = merged["services"]["web_prod"]
    assert float(web["cpus"]) == 0.5 and int(web["mem_limit"]) == 256 << 20
    assert web["deploy"]["resources"]["limits"]["pids"] == 256
