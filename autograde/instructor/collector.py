"""Collect a class's grade reports from GitHub Actions artifacts and turn them into rows."""
from __future__ import annotations

import json
import os
import re
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, TextIO

from autograde.instructor import tamper
from autograde.instructor.github_api import GitHubClient, GitHubError, Gone, NotFound
from autograde.instructor.gradebook import Row, row_from_report
from autograde.instructor.reports import MAX_ZIP_BYTES, best_report, parse_time, reports_from_zip_bytes
from autograde.instructor.roster import login_from_repo

STATE_SCHEMA = "autograde-collect-state/1"
ARTIFACT = "autograde-report"
RUNS_TO_TRY = 5  # newest completed runs searched for a report artifact


@dataclass
class Options:
    org: str
    prefix: str
    workflow: str = "classroom.yml"
    template: str | None = None
    template_ref: str | None = None
    artifact: str = ARTIFACT
    reports_dir: Path | None = None  # where downloaded artifacts are kept (for `autograde export`)
    state_path: Path | None = None


class Progress:
    """A text progress bar on stderr with an estimate; one line per repository."""

    def __init__(self, total: int, stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.total = total
        self.done = 0
        self.stream = stream or sys.stderr
        self.clock = clock
        self.start = clock()
        self.waited = 0.0  # seconds spent sleeping on rate limits (fake clocks don't advance)
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_shown = 0.0

    def bar(self, width: int = 24) -> str:
        filled = int(width * self.done / self.total) if self.total else width
        return f"[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total}"

    def estimate(self, extra: float = 0.0) -> str:
        if not self.done or self.done >= self.total:
            return ""
        spent = self.clock() - self.start + self.waited
        left = spent / self.done * (self.total - self.done) + extra
        return f" ~{_duration(left)} left"

    def step(self, name: str, outcome: str) -> None:
        self.done += 1
        print("\r" if self.tty else "", end="", file=self.stream)
        print(f"{self.bar()} {name}: {outcome}{self.estimate()}", file=self.stream, flush=True)

    def waiting(self, remaining: float, total: float, reason: str) -> None:
        if remaining == total:
            self.waited += total
            until = datetime.now(timezone.utc).timestamp() + total
            at = datetime.fromtimestamp(until, timezone.utc).strftime("%H:%M:%S UTC")
            print(f"{self.bar()} {reason}: waiting {_duration(total)} (until {at}){self.estimate(total)}",
                  file=self.stream, flush=True)
            self._last_shown = total
        elif self.tty or self._last_shown - remaining >= 60:  # a terminal redraws; a log gets a line a minute
            self._last_shown = remaining
            gone = int(20 * (total - remaining) / total) if total else 20
            line = f"  wait [{'=' * gone}{' ' * (20 - gone)}] {_duration(remaining)} left"
            print(("\r" + line) if self.tty else line, end="" if self.tty else "\n", file=self.stream, flush=True)


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


# --------------------------------------------------------------------------- state


class State:
    """Repositories already collected, kept in a JSON file so that a rerun resumes."""

    def __init__(self, path: Path | None, key: dict[str, Any]) -> None:
        self.path = path
        self.key = key
        self.done: dict[str, dict[str, Any]] = {}
        self.dispatched: dict[str, str] = {}
        self.discarded = False

    def load(self) -> None:
        if not self.path or not self.path.exists():
            return
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.discarded = True
            return
        if not isinstance(data, dict) or data.get("schema") != STATE_SCHEMA or data.get("key") != self.key:
            self.discarded = True  # another class, assignment or template: start over
            return
        self.done = dict(data.get("done") or {})
        self.dispatched = dict(data.get("dispatched") or {})

    def save(self) -> None:
        if not self.path:
            return
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps({"schema": STATE_SCHEMA, "key": self.key, "done": self.done,
                                   "dispatched": self.dispatched}, indent=1), encoding="utf-8")
        os.replace(tmp, self.path)


# --------------------------------------------------------------------------- collector


_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")


def safe_dirname(name: str) -> str:
    name = _SAFE_NAME.sub("_", name)[:100]
    return name if name.strip(".") else "_"


@dataclass
class Outcome:
    rows: list[Row] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (repository, reason): not done, retry
    skipped: int = 0  # done in an earlier run


class Collector:
    def __init__(self, client: GitHubClient, options: Options, stream: TextIO | None = None) -> None:
        self.client = client
        self.o = options
        self.stream = stream or sys.stderr
        self.paths = tamper.watched(options.workflow)
        self.template_tree: tamper.Tree | None = None
        self.template_ref: str | None = options.template_ref

    def say(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def state_key(self) -> dict[str, Any]:
        return {"org": self.o.org.lower(), "prefix": self.o.prefix.lower(), "workflow": self.o.workflow,
                "template": (self.o.template or "").lower(), "template_ref": self.o.template_ref or ""}

    def list_repositories(self) -> list[dict[str, Any]]:
        """The org's repositories named `<prefix>-...` (GitHub Classroom's naming), sorted by name."""
        want = self.o.prefix.lower() + "-"
        template = (self.o.template or "").lower()
        repos = [r for r in self.client.paginate(f"/orgs/{urllib.parse.quote(self.o.org)}/repos", {"type": "all"})
                 if isinstance(r, dict) and str(r.get("name", "")).lower().startswith(want)
                 and not r.get("is_template") and str(r.get("full_name", "")).lower() != template]
        return sorted(repos, key=lambda r: str(r["name"]).lower())

    def load_template(self) -> None:
        if not self.o.template:
            return
        ref = self.o.template_ref
        if not ref:
            ref = str(self.client.get_json(f"/repos/{self.o.template}")["default_branch"])
        self.template_ref = ref
        self.template_tree = tamper.fetch_tree(self.client, self.o.template, ref, self.paths)
        if not self.template_tree.blobs:
            self.say(f"autograde: warning: the template {self.o.template}@{ref} has none of "
                     f"{', '.join(self.paths)}; the tamper check flags every such file")

    # ------------------------------------------------------------------ one repository

    def collect_repo(self, repo: dict[str, Any], dispatched_at: str | None = None) -> Row:
        full = str(repo["full_name"])
        row = Row(repository=full, login=login_from_repo(str(repo["name"]), self.o.prefix))
        branch = str(repo.get("default_branch") or "main")
        q_branch = urllib.parse.quote(branch, safe="")
        try:
            head = self.client.get_json(f"/repos/{full}/branches/{q_branch}")
        except NotFound:
            return self._missing(row, f"repository or branch {branch} not found (deleted, empty or no access)")
        head_sha = str(head.get("commit", {}).get("sha") or "")
        head_date = parse_time(((head.get("commit", {}).get("commit") or {}).get("committer") or {}).get("date"))

        try:
            runs = self.client.get_json(
                f"/repos/{full}/actions/workflows/{urllib.parse.quote(self.o.workflow, safe='')}/runs",
                {"branch": branch, "status": "completed", "per_page": RUNS_TO_TRY},
            ).get("workflow_runs") or []
        except NotFound:
            return self._missing(row, f"workflow {self.o.workflow} not found")
        if not runs:
            return self._missing(row, f"no completed run of {self.o.workflow} on {branch}")

        newest = parse_time(runs[0].get("created_at"))
        asked = parse_time(dispatched_at)
        if asked and newest and newest < asked:
            raise GitHubError(0, "the regrade run has not completed yet", f"/repos/{full}")
        report = None
        run_sha = ""
        for run in runs[:RUNS_TO_TRY]:
            artifacts = self.client.get_json(
                f"/repos/{full}/actions/runs/{int(run['id'])}/artifacts", {"name": self.o.artifact}
            ).get("artifacts") or []
            art = next((a for a in artifacts if a.get("name") == self.o.artifact), None)
            if art is None:
                continue
            if art.get("expired"):
                row.flags.add("expired")
                return self._missing(row, f"artifact of run {run['id']} expired {art.get('expires_at', '')}".strip())
            try:
                data = self.client.download(str(art["archive_download_url"]), MAX_ZIP_BYTES)
            except (Gone, NotFound):
                row.flags.add("expired")
                return self._missing(row, f"artifact of run {run['id']} is gone (expired or deleted)")
            origin = f"{safe_dirname(str(repo['name']))}/{self.o.artifact}.zip"
            self._keep(origin, data)
            good, bad = reports_from_zip_bytes(data, origin)
            if not good:
                row.flags.update({"missing", "bad-report"})
                row.notes.extend(f"bad report {b.path}: {b.reason}" for b in bad[:3])
                return row
            report = best_report(good)
            run_sha = str(run.get("head_sha") or "")
            break
        if report is None:
            return self._missing(row, f"no {self.o.artifact} artifact in the last {len(runs)} completed runs")

        graded = row_from_report(report, full)
        graded.repository, graded.login = full, row.login
        graded.commit = graded.commit or run_sha
        if report.repository and report.repository.lower() != full.lower():
            graded.notes.append(f"report names another repository ({report.repository})")
            graded.flags.add("error")
        if head_sha and graded.commit and graded.commit != head_sha:
            graded.flags.add("stale")
            graded.notes.append(f"graded {graded.commit[:7]}, branch {branch} is at {head_sha[:7]}")
        else:
            when = parse_time(graded.graded_at)
            if when and head_date and when < head_date:
                graded.flags.add("stale")
                graded.notes.append("graded before the newest commit")
        if self.template_tree is not None and graded.commit:
            student = tamper.fetch_tree(self.client, full, graded.commit, self.paths)
            changed = tamper.diff(self.template_tree.blobs, student.blobs)
            graded.tampered.update(changed)
            if student.truncated or self.template_tree.truncated:
                graded.notes.append("tree listing truncated by GitHub: tamper check incomplete")
        return graded

    def _missing(self, row: Row, why: str) -> Row:
        row.flags.add("missing")
        row.notes.append(why)
        return row

    def _keep(self, origin: str, data: bytes) -> None:
        if self.o.reports_dir is None:
            return
        path = self.o.reports_dir / origin
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    # ------------------------------------------------------------------ whole class

    def collect(self, progress_stream: TextIO | None = None) -> Outcome:
        state = State(self.o.state_path, self.state_key())
        state.load()
        if state.discarded:
            self.say(f"autograde: {self.o.state_path} is from another collection; starting over")
        repos = self.list_repositories()
        out = Outcome()
        todo = []
        for repo in repos:
            done = state.done.get(str(repo["full_name"]))
            if done is not None:
                out.rows.append(Row.from_dict(done))
                out.skipped += 1
            else:
                todo.append(repo)
        self.say(f"autograde: {len(repos)} repositories named {self.o.prefix}-* in {self.o.org}"
                 + (f"; {out.skipped} already collected, {len(todo)} to go" if out.skipped else ""))
        if todo:
            self.load_template()
        progress = Progress(len(todo), progress_stream or self.stream)
        previous, self.client.listener = self.client.listener, progress
        try:
            for repo in todo:
                full = str(repo["full_name"])
                try:
                    row = self.collect_repo(repo, state.dispatched.get(full))
                except GitHubError as e:
                    out.failed.append((full, str(e)))
                    progress.step(str(repo["name"]), f"not collected ({e.message}); rerun to retry")
                    continue
                out.rows.append(row)
                state.done[full] = row.to_dict()
                state.dispatched.pop(full, None)
                state.save()
                flags = row.flag_text()
                shown = flags if "missing" in row.flags else f"{row.total}/{row.max} {flags or 'ok'}"
                progress.step(str(repo["name"]), shown)
        finally:
            self.client.listener = previous
        return out

    def regrade(self) -> Outcome:
        """Trigger the grading workflow (workflow_dispatch) on every repository's default branch."""
        state = State(self.o.state_path, self.state_key())
        state.load()
        repos = self.list_repositories()
        out = Outcome()
        progress = Progress(len(repos), self.stream)
        previous, self.client.listener = self.client.listener, progress
        try:
            for repo in repos:
                full = str(repo["full_name"])
                if full in state.dispatched:
                    out.skipped += 1
                    progress.step(str(repo["name"]), "already triggered")
                    continue
                branch = str(repo.get("default_branch") or "main")
                try:
                    self.client.request(
                        "POST",
                        f"/repos/{full}/actions/workflows/{urllib.parse.quote(self.o.workflow, safe='')}/dispatches",
                        json_body={"ref": branch},
                    )
                except GitHubError as e:
                    out.failed.append((full, str(e)))
                    progress.step(str(repo["name"]), f"not triggered ({e.message})")
                    continue
                state.dispatched[full] = datetime.now(timezone.utc).isoformat(timespec="seconds")
                state.done.pop(full, None)  # the next collect fetches the new report
                state.save()
                progress.step(str(repo["name"]), f"triggered {self.o.workflow} on {branch}")
        finally:
            self.client.listener = previous
        return out
