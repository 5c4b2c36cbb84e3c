"""Running the real grader on a hostile checkout, and checking that it left nothing behind.

The grader runs as a subprocess (`python -m autograde grade ...`) against the real engine,
always with `--host-port auto` and short timeouts. The compose project of a run comes from
the report (`grader.project`) or, while it runs, from the `-p` of its `docker compose`
children; everything carrying that project label, and every image tagged with it, must be
gone when the grader has exited.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from support import PROJECT_LABEL, REPO, default_signals, leftovers, make_checkout, solution_files

RUNTIME = ("runtime.up", "runtime.counter", "images.size_ratio", "images.prod_lean")
# static Dockerfile checks; dockerfile.builder_tests also needs the prod build to have run
DOCKERFILE = ("dockerfile.stages", "dockerfile.builder_venv", "dockerfile.final_slim", "dockerfile.final_copies")
COMPOSE = ("compose.services", "compose.web_prod", "compose.web_build")
FAST = ["--host-port", "auto", "--build-timeout", "60", "--ready-timeout", "8", "--request-timeout", "2"]


def solution(name: str) -> str:
    return solution_files()[name]


def prod_dockerfile(cmd: str | None = None, before_cmd: str = "") -> str:
    """The published Dockerfile.prod, with lines added to the final stage and/or its CMD replaced.

    The builder stage is untouched, so its layers come from the build cache.
    """
    text = solution("Dockerfile.prod")
    head, sep, tail = text.rpartition("CMD [")
    assert sep, "the solution's final stage has no exec-form CMD"
    final_cmd = cmd if cmd is not None else sep + tail.rstrip("\n")
    return head + before_cmd + final_cmd + "\n"


def py_cmd(script: str, *args: str) -> str:
    """`CMD ["python", "-u", "-c", script, *args]` (JSON-encoded, so any script fits on one line)."""
    return "CMD " + json.dumps(["python", "-u", "-c", script, *args])


def grade_many(
    jobs: dict[str, tuple[Path, tuple[str, ...], dict[str, str] | None]], timeout: float = 300
) -> dict[str, Graded]:
    """Start several graders at once (each its own checkout) and wait for all."""
    running = {}
    for key, (co, extra, env) in jobs.items():
        report = co.parent / f"{key}.json"
        running[key] = (start(co, report, *extra, env=env), report, time.monotonic())
    return {key: finish(proc, report, t0, timeout) for key, (proc, report, t0) in running.items()}


def checkout(dest: Path, files: dict[str, str | None] | None = None) -> Path:
    return make_checkout(dest, solution=True, files=files)


@dataclass
class Graded:
    returncode: int
    stdout: str
    stderr: str
    report: dict[str, Any] | None
    seconds: float
    max_rss_mb: float
    project: str | None = None
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)

    def status(self, check_id: str) -> str:
        return self.checks[check_id]["status"]

    def message(self, check_id: str) -> str:
        c = self.checks[check_id]
        return f"{c['message']} | {c.get('hint', '')}"

    def explain(self) -> str:
        return f"rc={self.returncode}\n--- stdout\n{self.stdout[-6000:]}\n--- stderr\n{self.stderr[-3000:]}"


def argv(co: Path, report: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "autograde", "grade", str(co), "--json", str(report), *FAST, *extra]


def environ(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "COMPOSE_"))}
    env["PYTHONPATH"] = str(REPO)
    env.update(extra)
    return env


def start(
    co: Path,
    report: Path,
    *extra: str,
    env: dict[str, str] | None = None,
    out: Path | None = None,
    ignored: tuple[signal.Signals, ...] = (),
) -> subprocess.Popen[bytes]:
    """Start the grader with default signal dispositions (whatever the shell that started pytest ignores),
    except the signals in `ignored`, which it inherits as ignored."""
    out = out or report.with_suffix(".out")
    return subprocess.Popen(
        argv(co, report, *extra),
        cwd=str(co.parent),
        env=env or environ(),
        stdin=subprocess.DEVNULL,
        stdout=open(out, "wb"),
        stderr=open(out.with_suffix(".err"), "wb"),
        preexec_fn=default_signals(ignored),
    )


def finish(proc: subprocess.Popen[bytes], report: Path, started: float, timeout: float = 300) -> Graded:
    """Wait for the grader (killing it at `timeout`) and collect what it wrote, with its own peak RSS."""
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            _stop(proc)
            raise AssertionError(f"the grader did not finish within {timeout:g} s")
        time.sleep(0.05)
    proc.returncode = os.waitstatus_to_exitcode(status)
    out = Path(proc.args[proc.args.index("--json") + 1]).with_suffix(".out")  # type: ignore[union-attr]
    stdout = out.read_text("utf-8", "replace") if out.exists() else ""
    stderr = out.with_suffix(".err").read_text("utf-8", "replace") if out.with_suffix(".err").exists() else ""
    data = json.loads(report.read_text("utf-8")) if report.exists() else None
    graded = Graded(
        proc.returncode, stdout, stderr, data, time.monotonic() - started, usage.ru_maxrss / 1024
    )  # Linux: KiB
    if data is not None:
        graded.project = (data.get("grader") or {}).get("project")
        graded.checks = {c["id"]: c for c in data["checks"]}
    return graded


def _stop(proc: subprocess.Popen[bytes], grace: float = 60) -> None:
    """End a grader that overran its test: SIGTERM, so that it removes what it started, then SIGKILL."""
    proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def grade(
    co: Path, *extra: str, env: dict[str, str] | None = None, timeout: float = 300, name: str = "report"
) -> Graded:
    report = co.parent / f"{name}.json"
    started = time.monotonic()
    return finish(start(co, report, *extra, env=env), report, started, timeout)


# --- the engine ----------------------------------------------------------------------------


def _client():
    import docker

    return docker.from_env()


def snapshot() -> dict[str, set[str]]:
    """Ids of every container, network, volume and image on the engine (others' too)."""
    c = _client()
    try:
        # the low-level listings are one call each: no per-item inspect that races with other people's removals
        return {
            "containers": {x["Id"] for x in c.api.containers(all=True)},
            "networks": {x["Id"] for x in c.api.networks()},
            "volumes": {x["Name"] for x in (c.api.volumes().get("Volumes") or [])},
            "images": {x["Id"] for x in c.api.images(all=True)},
        }
    finally:
        c.close()


def new_resources_of(before: dict[str, set[str]], project: str) -> list[str]:
    """What appeared since `before` and belongs to `project` (by label, name or tag)."""
    c = _client()
    found = []
    try:
        api = c.api
        for kind, items in (
            ("container", api.containers(all=True)),
            ("network", api.networks()),
            ("volume", api.volumes().get("Volumes") or []),
            ("image", api.images(all=True)),
        ):
            for item in items:  # one listing call each: nothing to race with other people's removals
                key = item["Name"] if kind == "volume" else item["Id"]
                labels = item.get("Labels") or {}
                names = [*(item.get("Names") or []), item.get("Name") or "", *(item.get("RepoTags") or [])]
                if key not in before[kind + "s"] and (
                    labels.get(PROJECT_LABEL) == project or any(project in n for n in names)
                ):
                    found.append(f"{kind} {item.get('Name') or (item.get('Names') or [key])[0]}")
    finally:
        c.close()
    return found


def images_of(project: str) -> list[str]:
    c = _client()
    try:
        out = [f"image {i.id} {i.tags}" for i in c.images.list(filters={"label": f"{PROJECT_LABEL}={project}"})]
        out += [f"image {t}" for i in c.images.list() for t in i.tags if t.startswith(project)]
        return out
    finally:
        c.close()


def assert_clean(graded: Graded, before: dict[str, set[str]] | None = None) -> None:
    """Nothing labelled with the run's project, no image of it, and (given `before`) nothing new of it."""
    assert graded.project, f"the report names no compose project\n{graded.explain()}"
    assert graded.project.startswith("autograde-")
    left = leftovers(graded.project) + images_of(graded.project)
    if before is not None:
        left += new_resources_of(before, graded.project)
    assert not left, f"left behind by {graded.project}: {left}"
    assert "could not remove" not in graded.stderr, graded.stderr


# --- a running grader -----------------------------------------------------------------------


def descendants(pid: int) -> list[tuple[int, list[str]]]:
    """(pid, argv) of every live descendant of pid, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            ppid = int(stat.rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            try:
                args = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            out.append((child, [a.decode("utf-8", "replace") for a in args if a]))
            todo.append(child)
    return out


def running_project(pid: int) -> str | None:
    for _, args in descendants(pid):
        if "compose" in args and "-p" in args[:-1]:
            return args[args.index("-p") + 1]
    return None


def wait_for(predicate: Any, timeout: float, what: str, proc: subprocess.Popen[bytes] | None = None) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the grader exited ({proc.returncode}) before {what}")
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def containers_of(project: str) -> list[Any]:
    import docker.errors

    c = _client()
    try:
        for _ in range(10):
            try:
                return c.containers.list(all=True, filters={"label": f"{PROJECT_LABEL}={project}"})
            except docker.errors.NotFound:  # removed between listing and inspecting
                time.sleep(0.1)
        return []
    finally:
        c.close()


def interrupt(proc: subprocess.Popen[bytes], sig: int = signal.SIGINT) -> None:
    os.kill(proc.pid, sig)


# --- workflow commands ----------------------------------------------------------------------

_TITLE = re.compile(r"title=(?P<title>[^,:]*)")


def forged_lines(stdout: str, check_ids: set[str]) -> list[str]:
    """Lines the Actions runner would act on that are not the grader's own.

    A model of the runner: outside a `::stop-commands::TOKEN` ... `::TOKEN::` block a line
    is a command if it starts (after whitespace) with `::` (v2 syntax) or, failing that,
    holds `##[` anywhere (v1 syntax). The grader's own are `::error`/`::warning`
    annotations titled with a check id or `hadolint`, and the opening of a fence.
    """
    forged, token = [], None
    for line in stdout.splitlines():
        s = line.strip()
        if token is not None:
            if s == f"::{token}::":
                token = None
            continue
        if s.startswith("::stop-commands::"):
            token = s[len("::stop-commands::") :]
            continue
        if s.startswith("::"):
            m = re.match(r"^::(error|warning)( [^:]*)?::", s)
            title = _TITLE.search(m.group(2) or "") if m else None
            ours = title is not None and (
                title.group("title").split(" ")[0].replace("%2C", ",").rstrip(",") in check_ids
                or title.group("title").startswith("hadolint")
            )
            if not ours:
                forged.append(line)
        elif "##[" in s:
            forged.append(line)
    return forged
