"""final_copies from evidence: once the prod image built and the app ran, what runs decides (the running
process' script, byte-identical to app/main.py; its interpreter, a venv's holding Flask; the image's exposed
ports). Where main.py came from only the Dockerfile tells. The text rules stay for --static-only."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from autograde.checks import default_rubric, run_check
from autograde.checks.base import Context
from autograde.checks.dockerfile import disagreements
from autograde.model import load_submission
from autograde.runtime.evidence import ImageConfig, ImageEvidence, VenvInImage
from autograde.runtime.facts import AppProcess, BuildFacts, Facts
from autograde.runtime.probes import parse_process
from support import REPO, make_checkout, solution_files

SOLUTION = solution_files()["Dockerfile.prod"]
MAIN_SHA = hashlib.sha256((REPO / "app" / "main.py").read_bytes()).hexdigest()
CONFIG = ImageConfig(
    (), ("python", "main.py"), "/opt/venv/bin:/usr/local/bin:/usr/bin:/bin", ("5000/tcp",), "/usr/src/app"
)
VENV = VenvInImage("/opt/venv", ("blinker", "flask", "redis", "werkzeug"))


def app(**changes: object) -> AppProcess:
    fields: dict[str, object] = {
        "argv": ["python", "main.py"],
        "cwd": "/usr/src/app",
        "interpreter": "/opt/venv/bin/python",
        "venv": "/opt/venv",
        "script": "/usr/src/app/main.py",
        "script_sha256": MAIN_SHA,
        "pid": 1,
    }
    fields.update(changes)
    return AppProcess(**fields)  # type: ignore[arg-type]


def facts(process: AppProcess | None, config: ImageConfig = CONFIG, venvs: tuple[VenvInImage, ...] = (VENV,)) -> Facts:
    build = BuildFacts(True, 10.0, "sha256:x", "t", 1)
    return Facts(prod_build=build, image=ImageEvidence(list(venvs), config=config), app=process)


def grade(tmp_path: Path, dockerfile: str, seen: Facts | None):
    root = make_checkout(tmp_path / "repo", files={"Dockerfile.prod": dockerfile})
    sub = load_submission(root)
    ctx = Context(sub, default_rubric(), seen)
    return run_check("dockerfile.final_copies", ctx), disagreements(ctx)


ENTRYPOINT_SCRIPT = SOLUTION.replace(
    'CMD ["python", "main.py"]',
    'COPY app/tests/conftest.py /usr/local/bin/start-app\nENTRYPOINT ["start-app"]',
)  # a script the text rules cannot follow (its text is no shell): only the running app shows what it runs


def test_what_runs_decides_where_the_text_cannot_follow(tmp_path):
    text, _ = grade(tmp_path / "a", ENTRYPOINT_SCRIPT, None)
    assert text.status == "fail" and "does not run main.py" in text.message
    seen, found = grade(tmp_path / "b", ENTRYPOINT_SCRIPT, facts(app()))
    assert seen.status == "pass", seen.message
    assert "`python main.py` runs /usr/src/app/main.py (the app's main.py, byte for byte)" in seen.message
    assert [d["check"] for d in found] == ["dockerfile.final_copies"], "the text rule's miss is recorded"


@pytest.mark.parametrize(
    "process, words",
    [
        (app(script="/usr/src/app/app.py", script_sha256="0" * 64), "runs /usr/src/app/app.py, not the app's main.py"),
        (app(script_sha256="1" * 64), "a main.py that differs from app/main.py"),
        (app(argv=["gunicorn", "main:app"], script=""), "which runs no Python file"),
        (app(interpreter="/usr/local/bin/python", venv=""), "is /usr/local/bin/python, not a virtual environment's"),
        (app(venv="/opt/other", interpreter="/opt/other/bin/python"), "venv /opt/other does not hold Flask"),
    ],
)
def test_what_runs_fails_the_row_in_plain_sentences(tmp_path, process, words):
    result, _ = grade(tmp_path, SOLUTION, facts(process))
    assert result.status == "fail" and words in result.message, result.message
    assert result.message[0].isupper() and result.message.endswith("."), "a plain sentence"


def test_exposed_ports_are_read_from_the_image(tmp_path):
    config = ImageConfig((), CONFIG.cmd, CONFIG.path, ("8000/tcp",), CONFIG.workdir)
    result, _ = grade(tmp_path, SOLUTION, facts(app(), config))
    assert result.status == "fail" and "The prod image exposes 8000/tcp, not 5000." in result.message


def test_where_main_py_came_from_is_the_dockerfiles_to_say(tmp_path):
    from_context = SOLUTION.replace("COPY --from=builder /opt/app_builder/main.py .", "COPY app/main.py .")
    result, _ = grade(tmp_path, from_context, facts(app()))
    assert result.status == "fail" and "copies main.py from the build context (line 20)" in result.message


def test_without_a_running_app_the_text_decides(tmp_path):
    for process in (None, AppProcess([], error="the process probe could not run in web_prod (exit status 126)")):
        result, found = grade(tmp_path / str(id(process)), SOLUTION, facts(process))
        assert result.status == "pass" and result.message.startswith("The final stage (final, line 17) copies"), result
        assert found == []


def test_the_probes_line_is_read_as_student_controlled_text():
    ok = parse_process(
        '{"pid": 1, "argv": ["python", "main.py"], "cwd": "/app", "interpreter": "/opt/venv/bin/python",'
        ' "venv": "/opt/venv", "script": "/app/main.py", "sha256": "ab"}'
    )
    assert (ok.argv, ok.venv, ok.script, ok.script_sha256, ok.pid) == (
        ["python", "main.py"],
        "/opt/venv",
        "/app/main.py",
        "ab",
        1,
    )
    assert parse_process("not json").error.startswith("the process probe printed")
    assert parse_process('{"error": "no Python process runs in the container"}').error.startswith("no Python")
    odd = parse_process('{"argv": "python", "venv": 3, "pid": "1", "script": ["x"]}')
    assert (odd.argv, odd.venv, odd.pid, odd.script) == ([], "", 0, "")
