"""Models of what GitHub does with the grader's output, shared by the report and workflow tests.

1. The Actions runner's workflow-command parsing (actions/runner
   src/Runner.Common/ActionCommand.cs: TryParseV2 takes a line that starts, after leading
   whitespace, with `::name props::data`; TryParse takes `##[name props]data` anywhere in a
   line; src/Runner.Worker/ActionCommandManager.cs TryProcessCommand: after
   `::stop-commands::TOKEN` nothing is carried out until a line `::TOKEN::`).

2. classroom-resources/autograding-grading-reporter at the commit the workflow pins
   (d13b5912daf5042ac1b71bc38bdb4a6bcd61d8ca, tag v1), reimplemented from these lines:
  src/main.js:6-13           runners split on ",", env `${runner.trim().toUpperCase()}_RESULTS`,
                             base64-decoded, JSON.parse
  src/helpers/test-helpers.js:1   getMaxScoreForTest = r => r.max_score || 0
  src/helpers/test-helpers.js:11-18 getTestScore = (count of tests with status "pass")
                             / tests.length * max_score           (console table, per runner)
  src/aggregate-results.js:30-36  table total = sum of getTestScore over runners
  src/notify-classroom.js:6-19    totalPoints = sum of tests[].score over runners whose
                             max_score is truthy; maxPoints = sum of those max_score;
                             no notice when maxPoints is 0
  src/notify-classroom.js:21-31   notices "Points X/Y" (title "Autograding complete") and
                             JSON.stringify({totalPoints, maxPoints}) (title "Autograding report")
  src/main.js:19-23          setFailed when any runner status is "fail", else when any is "error"
"""

from __future__ import annotations

import base64
import json
import re

# --- the runner's command parsing -------------------------------------------------------

REGISTERED = {
    "error",
    "warning",
    "notice",
    "debug",
    "group",
    "endgroup",
    "set-output",
    "add-mask",
    "stop-commands",
    "echo",
    "save-state",
    "add-path",
    "set-env",
    "add-matcher",
}


def _unescape_data(s: str) -> str:
    return s.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def _unescape_property(s: str) -> str:
    return _unescape_data(s).replace("%3A", ":").replace("%2C", ",")


def parse_line(line: str, registered: set[str]):
    msg = line.lstrip()
    if msg.startswith("::"):
        end = msg.find("::", 2)
        if end >= 0:
            info = msg[2:end]
            name, _, props = info.partition(" ")
            if name in registered:
                properties = {}
                for p in filter(None, props.strip().split(",")):
                    k, _, v = p.partition("=")
                    if v:
                        properties[k] = _unescape_property(v)
                return name, properties, _unescape_data(msg[end + 2 :])
    i = line.find("##[")
    if i >= 0:
        rb = line.find("]", i)
        if rb >= 0:
            name = line[i + 3 : rb].split(" ")[0]
            if name in registered:
                return name, {}, line[rb + 1 :]
    return None


def runner_commands(log: str) -> list[tuple[str, dict, str]]:
    """The commands the runner would carry out for this log, honouring stop-commands."""
    registered, stopped_by, done = set(REGISTERED), None, []
    for line in re.split(r"\r\n|\r|\n", log):
        cmd = parse_line(line, registered)
        if cmd is None:
            continue
        name = cmd[0]
        if stopped_by is not None:
            if name == stopped_by:
                registered.discard(stopped_by)
                stopped_by = None
            continue
        if name == "stop-commands":
            stopped_by = cmd[2]
            registered.add(stopped_by)
            continue
        done.append(cmd)
    return done


# --- the reporter, reimplemented ---------------------------------------------------------


def parse_github_output(text: str) -> dict[str, str]:
    """Read a $GITHUB_OUTPUT file as the runner does: `k=v` lines and `k<<DELIM` blocks."""
    out: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line:
            i += 1
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delim = line.split("<<", 1)
            body = []
            i += 1
            while lines[i] != delim:
                body.append(lines[i])
                i += 1
            out[name] = "\n".join(body)
        else:
            name, value = line.split("=", 1)
            out[name] = value
        i += 1
    return out


def reporter_env(outputs: dict[str, str]) -> dict[str, str]:
    """What the workflow's reporter step puts in its env: <RUNNER>_RESULTS per runner."""
    return {f"{r.upper()}_RESULTS": outputs[r] for r in outputs["runners"].split(",")}


def reporter_load(runners_input: str, env: dict[str, str]) -> list[tuple[str, dict]]:
    # src/main.js:6-13
    loaded = []
    for runner in runners_input.split(","):
        encoded = env[f"{runner.strip().upper()}_RESULTS"]
        loaded.append((runner, json.loads(base64.b64decode(encoded).decode("utf-8"))))
    return loaded


def get_test_score(results: dict) -> float:
    # src/helpers/test-helpers.js:11-18
    passed = sum(1 for t in results["tests"] if t["status"] == "pass")
    return passed / len(results["tests"]) * (results.get("max_score") or 0)


def console_table_totals(runner_results) -> tuple[float, int]:
    # src/aggregate-results.js:8-20,33-34 (getTableTotals, then the "Total:" row)
    score = sum(get_test_score(r) for _, r in runner_results)
    max_score = sum(r.get("max_score") or 0 for _, r in runner_results)
    return score, max_score


def classroom_notice_totals(runner_results) -> tuple[int, int] | None:
    # src/notify-classroom.js:6-19
    total = maximum = 0
    for _, r in runner_results:
        if not r.get("max_score"):
            continue
        maximum += r["max_score"]
        total += sum(t["score"] for t in r["tests"])
    return None if not maximum else (total, maximum)


def reporter_fails(runner_results) -> str | None:
    # src/main.js:19-23
    if any(r["status"] == "fail" for _, r in runner_results):
        return "Some tests failed."
    if any(r["status"] == "error" for _, r in runner_results):
        return "Some tests errored."
    return None


def escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def reporter_notices(runner_results) -> list[str]:
    """What notify-classroom.js prints via core.notice (toolkit escaping), [] if no max."""
    totals = classroom_notice_totals(runner_results)
    if totals is None:
        return []
    total, maximum = totals
    report = json.dumps({"totalPoints": total, "maxPoints": maximum}, separators=(",", ":"))
    return [
        f"::notice title=Autograding complete::{escape_data(f'Points {total}/{maximum}')}",
        f"::notice title=Autograding report::{escape_data(report)}",
    ]
