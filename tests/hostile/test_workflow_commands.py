"""Case 8: build output, container logs and HTTP bodies that imitate workflow commands.

Graded as on GitHub Actions (GITHUB_ACTIONS=true, a GITHUB_OUTPUT and a GITHUB_STEP_SUMMARY
file, --classroom): no line outside a `::stop-commands::` fence may be a command the
grader did not write itself, and GITHUB_OUTPUT holds only the grader's keys.
"""

from __future__ import annotations

import re

import pytest

from hostile.harness import assert_clean, checkout, environ, forged_lines, grade_many, prod_dockerfile, py_cmd, snapshot

pytestmark = pytest.mark.docker

FORGED = [
    "::error file=x::fake",
    "::notice title=Autograding complete::Points 100/100",
    "::set-output name=result::x",
    "##[error]fake v1",
    "  ::warning::indented fake",
]
ECHO = " && ".join(f"echo '{line}'" for line in FORGED)
BODY_APP = r"""
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
LINES = %r
for line in LINES:
    print(line)
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        body = ('\n'.join(LINES) + '\nviewed 1 times\n' + '\n'.join(LINES) + '\n').encode()
        self.send_response(200); self.send_header('Content-Length', str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        print('::error::from the access log', *a)
HTTPServer(('0.0.0.0', 5000), H).serve_forever()
""" % (FORGED,)


@pytest.fixture(scope="module")
def graded(tmp_path_factory, docker_engine):
    before = snapshot()
    jobs, files = {}, {}
    for name, dockerfile in (
        ("build", prod_dockerfile(before_cmd=f"RUN {ECHO} && exit 1\n")),
        ("body", prod_dockerfile(cmd=py_cmd(BODY_APP))),
    ):
        base = tmp_path_factory.mktemp(name)
        co = checkout(base / "co", {"Dockerfile.prod": dockerfile})
        out, summary = base / "github_output", base / "step_summary"
        out.write_text(""), summary.write_text("")
        env = environ(GITHUB_ACTIONS="true", GITHUB_OUTPUT=str(out), GITHUB_STEP_SUMMARY=str(summary))
        jobs[name] = (co, ("--classroom",), env)
        files[name] = (out, summary)
    return before, grade_many(jobs, timeout=240), files


def _output_keys(text: str) -> set[str]:
    keys, lines, i = set(), text.splitlines(), 0
    while i < len(lines):
        m = re.match(r"^([^=<]+)<<(.+)$", lines[i])
        if m:
            keys.add(m.group(1))
            i += 1
            while i < len(lines) and lines[i] != m.group(2):
                i += 1
        elif "=" in lines[i]:
            keys.add(lines[i].split("=", 1)[0])
        i += 1
    return keys


@pytest.mark.parametrize("name", ["build", "body"])
def test_student_text_is_printed_inert(graded, name):
    before, runs, files = graded
    g = runs[name]
    assert g.report is not None, g.explain()
    ids = set(g.checks)
    assert forged_lines(g.stdout, ids) == [], g.stdout
    assert forged_lines(g.stderr, ids) == [], g.stderr
    assert "fake" in g.stdout, "the student's text is shown (fenced), not dropped"
    failing = "runtime.up" if name == "build" else "runtime.counter"
    assert g.status(failing) == "fail", g.message(failing)

    from autograde.report import classroom
    from autograde.results import GradingResults

    out, summary = files[name]
    expected = set(classroom.step_outputs(GradingResults.from_dict(g.report)))
    keys = _output_keys(out.read_text())
    assert keys == expected, f"GITHUB_OUTPUT keys {keys}, the grader's are {expected}"
    # the forged `::set-output name=result::x` did not set it: `result` is the grader's own payload
    import base64
    import json

    from report.models import parse_github_output

    result = json.loads(base64.b64decode(parse_github_output(out.read_text())["result"]))
    from autograde.checks import default_rubric

    rubric = default_rubric()
    assert result["max_score"] == rubric.possible and len(result["tests"]) == len(rubric.items)
    assert summary.read_text().startswith("## "), "the job summary was written"
    assert_clean(g, before)
