"""LAB06's template as a student receives it (autograde/labs/lab06/template/), and its corpus' files.

What can be proven without a grader for the lab: the app's unit tests pass and catch a broken
`/health`; solutions.md's blocks are whole files of the template; the starter and the solution are
files Compose accepts; on a real engine the starter runs with no health status at all, and the
solution becomes healthy, counts in Redis, and turns unhealthy once Redis is gone. The corpus
cases are checked for form here; their verdicts are the grader's to reproduce.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lab06_support import (
    CORPUS,
    REDIS,
    TEMPLATE,
    WEB,
    StackRun,
    case_files,
    case_names,
    first_healthy_after_start,
    make_checkout,
    solution_files,
)

from support import http_get, leftovers

README = (TEMPLATE / "README.md").read_text(encoding="utf-8")
STARTER = (TEMPLATE / "docker-compose.yml").read_text(encoding="utf-8")
TODOS = ("TODO_WEB_HEALTHCHECK", "TODO_REDIS_HEALTHCHECK", "TODO_DEPENDS_HEALTHY")
# The files a LAB06 corpus case may put over the template: what a student of this lab changes.
CASE_FILES = {"docker-compose.yml", "app/Dockerfile", ".env"}
STATUSES = ("pass", "fail", "skip", "error")
MARGIN_S = 15.0  # on top of a container's own budget: a loaded 2-core machine


def rubric() -> dict[str, int]:
    """check id -> points, from the README's rubric table."""
    table = README.split("<!-- rubric-table -->", 1)[1].split("<!-- /rubric-table -->", 1)[0]
    rows = re.findall(r"^\| `([\w.]+)` \|.*\| (\d+) \|$", table, re.M)
    return {cid: int(points) for cid, points in rows}


def template_files() -> set[str]:
    return {p.relative_to(TEMPLATE).as_posix() for p in TEMPLATE.rglob("*") if p.is_file()}


def compose_config(root: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
    return subprocess.run(
        ["docker", "compose", "-f", "docker-compose.yml", "config", *extra],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


# --- the lab's files --------------------------------------------------------------------------


def test_the_template_holds_what_a_student_receives():
    expected = {
        "README.md",
        "solutions.md",
        "docker-compose.yml",
        ".gitignore",
        "app/main.py",
        "app/requirements.txt",
        "app/requirements-dev.txt",
        "app/Dockerfile",
        "app/.dockerignore",
        "app/pytest.ini",
        "app/tests/conftest.py",
        "app/tests/test_main.py",
        ".github/workflows/classroom.yml",  # derived from the grader's own (rubric_docs); `lab init` pins the grader
    }
    found = {f for f in template_files() if "__pycache__" not in f and ".pytest_cache" not in f}
    assert found == expected


def test_solutions_md_gives_whole_files_of_the_template():
    files = solution_files()
    assert set(files) == {"docker-compose.yml"}
    for rel, text in files.items():
        assert (TEMPLATE / rel).is_file(), f"solutions.md gives {rel}, which the template does not have"
        assert text.strip() and text.endswith("\n")


def test_solution_blocks_are_found_the_way_lab04s_are():
    """Other fenced blocks (a snippet without a file name) are skipped; an unclosed block is an error."""
    text = "```dockerfile\nRUN x\n```\n\n```yaml docker-compose.yml\nname: x\n```\n"
    assert solution_files(text) == {"docker-compose.yml": "name: x\n"}
    with pytest.raises(ValueError, match="never closed"):
        solution_files("```yaml docker-compose.yml\nname: x\n")
    with pytest.raises(ValueError, match="two blocks"):
        solution_files("```yaml a.yml\n```\n```yaml a.yml\n```\n")


def test_starter_runs_but_has_no_health_checks_and_a_plain_depends_on():
    data = yaml.safe_load(STARTER)
    assert data["name"] == "lab06"
    assert set(data["services"]) == {WEB, REDIS}
    web, redis = data["services"][WEB], data["services"][REDIS]
    assert "healthcheck" not in web and "healthcheck" not in redis
    assert web["depends_on"] == [REDIS]
    assert web["build"] == "./app" and web["ports"] == ["5007:5000"] and web["environment"] == ["REDIS_HOST=redis"]
    assert redis["image"] == "redis:alpine"
    assert not re.search(r"^version\s*:", STARTER, re.M)
    for todo in TODOS:
        assert todo in STARTER and todo in README, todo


def test_solution_does_what_the_rubric_asks():
    data = yaml.safe_load(solution_files()["docker-compose.yml"])
    web, redis = data["services"][WEB], data["services"][REDIS]
    assert data["name"] == "lab06"
    assert web["depends_on"] == {REDIS: {"condition": "service_healthy"}}
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert "localhost:5000/health" in " ".join(web["healthcheck"]["test"])
    for service in (web, redis):
        hc = service["healthcheck"]
        assert {"interval", "timeout", "retries", "start_period"} <= set(hc)
        assert seconds(hc["timeout"]) <= seconds(hc["interval"]) and hc["retries"] >= 1
    # everything else is the starter's, unchanged
    starter = yaml.safe_load(STARTER)
    for name in (WEB, REDIS):
        rest = {k: v for k, v in data["services"][name].items() if k not in ("healthcheck", "depends_on")}
        assert rest == {k: v for k, v in starter["services"][name].items() if k != "depends_on"}


def seconds(duration: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", duration)
    assert "".join(n + u for n, u in parts) == duration, duration
    return sum(float(n) * units[u] for n, u in parts)


def test_readme_rubric_has_the_six_checks_and_adds_up_to_100():
    assert rubric() == {
        "compose.web_healthcheck": 20,
        "compose.redis_healthcheck": 15,
        "compose.healthcheck_timing": 10,
        "compose.depends_healthy": 15,
        "runtime.healthy": 20,
        "runtime.counter": 20,
    }
    assert "| **total** | | | **100** |" in README


def test_readme_tells_the_truth_about_the_files():
    """What the text says about the app and the image holds for the files as shipped."""
    main = (TEMPLATE / "app" / "main.py").read_text(encoding="utf-8")
    dockerfile = (TEMPLATE / "app" / "Dockerfile").read_text(encoding="utf-8")
    assert "healthy: Redis answered PING" in main and "healthy: Redis answered PING" in README
    assert "unhealthy: cannot reach Redis at {host}:{port}" in main
    assert "unhealthy: cannot reach Redis at redis:6379" in README
    assert "socket_connect_timeout=2, socket_timeout=2" in main  # "answers within about 2 seconds"
    froms = re.findall(r"^FROM (\S+)", dockerfile, re.M)
    assert froms == ["python:3.13-slim", "python:3.13-slim"]
    instructions = re.sub(r"#.*", "", dockerfile)
    assert "curl" not in instructions and "wget" not in instructions
    the_test = solution_files()["docker-compose.yml"].split("test: ", 1)[1].split("\n", 1)[0]
    assert the_test in README  # Part 3 shows the solution's own command


def test_corpus_has_at_least_twelve_cases_of_both_kinds_in_the_expected_form():
    names = case_names()
    assert len(names) >= 12
    assert any(n.startswith("ok-") for n in names) and any(n.startswith("bad-") for n in names)
    assert {p.name for p in CORPUS.iterdir() if p.is_dir()} == set(names), "a case folder without expect.yml"
    ids = set(rubric())
    for name in names:
        assert name.startswith(("ok-", "bad-")), name
        assert set(case_files(name)) <= CASE_FILES, f"{name}: only {sorted(CASE_FILES)} may change"
        assert "docker-compose.yml" in case_files(name), name
        data = yaml.safe_load((CORPUS / name / "expect.yml").read_text(encoding="utf-8"))
        assert set(data) <= {"why", "default", "checks"}, name
        assert isinstance(data["why"], str) and data["why"].strip(), name
        assert data["default"] in STATUSES, name
        checks = data.get("checks") or {}
        assert set(checks) <= ids, f"{name}: unknown check ids {set(checks) - ids}"
        for cid, entry in checks.items():
            assert entry["status"] in STATUSES and entry["why"].strip(), f"{name}: {cid}"
        if name.startswith("ok-"):
            assert data["default"] == "pass" and not checks, f"{name}: an ok case passes every check"
        else:
            assert any(e["status"] != "pass" for e in checks.values()), f"{name}: a bad case loses something"


# --- the app's unit tests ---------------------------------------------------------------------

# A change to app/main.py that breaks /health or the counter -> (text replaced, replacement).
BREAKAGES = {
    "health-always-200": ('{port}\\n", status=503', '{port}\\n", status=200'),
    "health-counts-a-visit": ("get_redis().ping()", "get_redis().ping(); get_redis().incr('hits')"),
    "health-only-connection-errors": (
        "except redis.exceptions.RedisError:",
        "except redis.exceptions.ConnectionError:",
    ),
    "health-retries": ("get_redis().ping()", "get_redis().ping() if get_redis().ping() else None"),
    "counter-never-counts": ('client.incr("hits")', "1"),
    "500-instead-of-503": ("Response(message, status=503", "Response(message, status=500"),
}


@pytest.fixture(scope="session")
def app_python(tmp_path_factory) -> Path:
    """A Python interpreter with the app's development requirements (Flask, redis, pytest)."""
    venv = tmp_path_factory.mktemp("lab06-app-venv")
    made = subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot create a venv for the app's tests: {made.stderr.strip()[-500:]}")
    python = venv / "bin" / "python"
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "-r", str(TEMPLATE / "app" / "requirements-dev.txt")],
        capture_output=True,
        text=True,
        timeout=900,
    )
    if installed.returncode != 0:
        pytest.skip(f"cannot install requirements-dev.txt (package index unreachable?): {installed.stderr[-500:]}")
    return python


def run_app_tests(python: Path, root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "app/tests"],
        cwd=root,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_app_unit_tests_pass(app_python, tmp_path):
    result = run_app_tests(app_python, make_checkout(tmp_path / "lab"))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert re.search(r"\b1\d passed\b", output) and "failed" not in output, output


@pytest.mark.slow
@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_app_unit_tests_catch_a_broken_app(app_python, tmp_path, breakage):
    root = make_checkout(tmp_path / "lab")
    main = root / "app" / "main.py"
    old, new = BREAKAGES[breakage]
    source = main.read_text(encoding="utf-8")
    assert source.count(old) == 1, f"app/main.py changed: {old!r} is not there once; update BREAKAGES"
    main.write_text(source.replace(old, new), encoding="utf-8")
    result = run_app_tests(app_python, root)
    output = result.stdout + result.stderr
    assert result.returncode == 1 and " failed" in output, f"the tests did not notice '{breakage}':\n{output}"


@pytest.mark.slow
def test_health_answers_503_quickly_when_nothing_listens_for_redis(app_python, tmp_path):
    """With the real redis-py client, not a fake: a refused connection is a 503 at once, not a hang."""
    script = (
        "import os, socket, time, main\n"
        "s = socket.socket(); s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]; s.close()\n"
        "os.environ['REDIS_HOST'] = '127.0.0.1'; os.environ['REDIS_PORT'] = str(port)\n"
        "t = time.monotonic(); r = main.app.test_client().get('/health')\n"
        "print(r.status_code, round(time.monotonic() - t, 2), r.get_data(as_text=True).strip())\n"
    )
    ran = subprocess.run(
        [str(app_python), "-c", script],
        cwd=make_checkout(tmp_path / "lab") / "app",
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.returncode == 0, ran.stderr
    status, took, body = ran.stdout.split(" ", 2)
    assert status == "503" and float(took) < 2.5, ran.stdout
    assert body.startswith("unhealthy: cannot reach Redis at 127.0.0.1:")


# --- Compose and the real engine --------------------------------------------------------------


@pytest.mark.docker
def test_starter_solution_and_cases_are_files_compose_accepts(tmp_path):
    checkouts = {
        "starter": make_checkout(tmp_path / "starter"),
        "solution": make_checkout(tmp_path / "s", solution=True),
    }
    checkouts.update({name: make_checkout(tmp_path / name, case=name) for name in case_names()})
    for label, root in checkouts.items():
        done = compose_config(root, "--quiet")
        assert done.returncode == 0, f"{label}: {done.stderr}"


@pytest.fixture(scope="module")
def solution_stack(tmp_path_factory, docker_engine):
    """The solution, brought up as a student does, observed, and removed (also when a test fails)."""
    stack = StackRun(make_checkout(tmp_path_factory.mktemp("lab06") / "solution", solution=True), prefix="lab06sol")
    try:
        up = stack.compose("up", "--build", "-d")
        yield stack, up
    finally:
        stack.down()
        assert leftovers(stack.project) == []


@pytest.mark.docker
def test_solution_becomes_healthy_within_its_budget_counts_and_turns_unhealthy_without_redis(solution_stack):
    stack, up = solution_stack
    assert up.returncode == 0, up.stdout + up.stderr
    for service in (REDIS, WEB):
        hc = stack.health(service)
        assert hc is not None, f"{service} has no health check"
        health, waited = stack.wait_health(service, {"healthy"}, hc.budget() + MARGIN_S)
        assert health == "healthy", f"{service} is {health} after {waited:.0f} s"
        took = first_healthy_after_start(stack.state(service))
        assert took is not None and took <= hc.budget(), (service, took)

    counts, hits = stack.counter()
    assert isinstance(counts[0], int) and counts == [counts[0], counts[0] + 1], counts
    assert hits == str(counts[1])

    stop = stack.compose("stop", REDIS, timeout=120)
    assert stop.returncode == 0, stop.stderr
    assert stack.state(WEB)["status"] == "running"  # stopping redis leaves web running
    code, output = stack.exec_test(WEB)
    assert code == 1 and "HTTP Error 503" in output, output
    assert http_get(stack.url + "health", timeout=10)[0] == 503
    web = stack.health(WEB)
    assert web is not None
    health, waited = stack.wait_health(WEB, {"unhealthy"}, web.interval * web.retries + web.timeout + MARGIN_S)
    assert health == "unhealthy", f"web is still {health} {waited:.0f} s after Redis stopped"

    start = stack.compose("start", REDIS, timeout=120)
    assert start.returncode == 0, start.stderr
    health, waited = stack.wait_health(WEB, {"healthy"}, web.interval * 2 + MARGIN_S)
    assert health == "healthy", f"web is {health} {waited:.0f} s after Redis came back"


@pytest.mark.docker
def test_starter_runs_with_no_health_status(tmp_path, docker_engine):
    stack = StackRun(make_checkout(tmp_path / "starter"), prefix="lab06start")
    try:
        up = stack.compose("up", "--build", "-d")
        assert up.returncode == 0, up.stdout + up.stderr
        for service in (WEB, REDIS):
            state = stack.state(service)
            assert state["status"] == "running" and state["health"] is None, (service, state)
            assert stack.health(service) is None
        counts, hits = stack.counter()  # it works: it is only unobserved
        assert isinstance(counts[0], int) and hits == str(counts[1])
    finally:
        stack.down()
        assert leftovers(stack.project) == []
