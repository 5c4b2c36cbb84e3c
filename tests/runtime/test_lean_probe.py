"""What the app's Python imports: the image probe only looks Flask up (importing it compiles much of the standard
library, which the official images ship without bytecode); the import is shown by the running app, or done in a
second look at the image when the app did not show it."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pytest

from autograde.labs.lab04.scenario import app_imported_flask
from autograde.runtime import inspection
from autograde.runtime.engine import Engine, Phases
from autograde.runtime.facts import AppProcess, CounterFacts, HttpAnswer
from autograde.runtime.override import Caps
from autograde.util import Processes
from support import built_image

MAIN = "import os\nfrom flask import Flask, Response\n\napp = Flask(__name__)\n"


def _app(main: Path, **changes: str) -> AppProcess:
    app = AppProcess(
        ["python", "main.py"],
        cwd="/usr/src/app",
        interpreter="/opt/venv/bin/python",
        script="/usr/src/app/main.py",
        script_sha256=hashlib.sha256(main.read_bytes()).hexdigest(),
    )
    for key, value in changes.items():
        setattr(app, key, value)
    return app


def _counter(status: int | None) -> CounterFacts:
    return CounterFacts("http://127.0.0.1:1/", first=HttpAnswer(status))


def test_the_running_app_shows_flask_imports_only_when_the_lab_s_main_py_answered_with_that_python(tmp_path):
    main = tmp_path / "main.py"
    main.write_text(MAIN)
    exe = "/opt/venv/bin/python"
    assert app_imported_flask(main, exe, _app(main), _counter(200))
    # another interpreter, another script, a script that could not be read, a process not read
    assert not app_imported_flask(main, "/usr/local/bin/python", _app(main), _counter(200))
    assert not app_imported_flask(main, exe, _app(main, script_sha256="0" * 64), _counter(200))
    assert not app_imported_flask(main, exe, _app(main, script_sha256=""), _counter(200))
    assert not app_imported_flask(main, exe, _app(main, error="no Python process"), _counter(200))
    assert not app_imported_flask(main, exe, None, _counter(200))
    # an answer that is not 200 is Flask's answer too (an app that cannot reach Redis); no answer, no counter: no
    assert app_imported_flask(main, exe, _app(main), _counter(500))
    assert not app_imported_flask(main, exe, _app(main), _counter(None))
    assert not app_imported_flask(main, exe, _app(main), None)
    # a main.py that does not import Flask at module level proves nothing about Flask
    other = tmp_path / "other.py"
    other.write_text("def f():\n    import flask\n")
    assert not app_imported_flask(other, exe, _app(other), _counter(200))
    other.write_text("from .flask import Flask\n")
    assert not app_imported_flask(other, exe, _app(other), _counter(200))
    other.write_text("import flask.json\n")
    assert app_imported_flask(other, exe, _app(other), _counter(200))
    assert not app_imported_flask(tmp_path / "missing.py", exe, _app(main), _counter(200))


# Flask's module is there, but importing it fails (as when pip installed it without its dependencies)
BROKEN = """FROM python:3.13-slim
RUN mkdir -p /opt/lib/flask && printf 'import werkzeug_is_not_here\\n' > /opt/lib/flask/__init__.py
ENV PYTHONPATH=/opt/lib
"""


@pytest.mark.docker
def test_the_probe_looks_flask_up_and_imports_it_only_when_asked(docker_engine, tmp_path):
    project = f"autograde-lean-test-{uuid.uuid4().hex[:8]}"
    engine = Engine(project, tmp_path, Processes())
    engine.client = docker_engine
    caps = Caps(memory="256m", pids=64, cpus=1.0)
    with built_image(tmp_path, BROKEN, "autograde-lean-test") as tag:
        phases = Phases({}, lambda *_: None)
        looked, _, lost = inspection.inspect(engine, phases, tag, ("python", "PATH"), caps)
        assert not lost and not looked.error
        assert looked.flask_ok and looked.flask_by == "find" and looked.flask_error == ""
        imported, lost = inspection.lean(engine, phases, tag, ("python", "PATH"), caps, True)
        assert not lost and not imported.error
        assert not imported.flask_ok and imported.flask_by == "import"
        assert imported.flask_error == "ModuleNotFoundError: No module named 'werkzeug_is_not_here'"
        left = docker_engine.containers.list(all=True, filters={"label": f"com.docker.compose.project={project}"})
        assert left == []
