"""Collect a class's grade reports from GitHub Actions artifacts and turn them into rows.

What is trusted: the workflow run as the API describes it (`head_sha`, `event`, `head_repository`,
`run_attempt`), never what the downloaded report says about itself. A report whose `source`
disagrees with its run is flagged `mismatch`.
"""

from __future__ import annotations

import json
import os
import re
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from autograde.github_api import GitHubClient, GitHubError, Gone, NotFound, Uncertain, server_time
from autograde.instructor import tamper
from autograde.instructor.github_setup import list_all, of_assignment
from autograde.instructor.gradebook import Row, row_from_report
from autograde.instructor.identity import classroom_repositories
from autograde.instructor.progress import Display
from autograde.instructor.reports import MAX_ZIP_BYTES, best_report, parse_time, reports_from_zip_bytes
from autograde.instructor.roster import RepoMatch, RosterEntry, login_from_repo, match_repositories

STATE_SCHEMA = "autograde-collect-state/2"
ARTIFACT = "autograde-report"
RUNS_TO_TRY = 5  # newest usable completed runs searched for a report artifact
RUNS_TO_LIST = 30  # runs listed per page
RUN_PAGES = 4  # pages of runs read at most per repository
# Events whose run grades the branch itself. pull_request runs grade a temporary merge commit
# (and may come from a fork whose branch is also called main): never used.
GRADED_EVENTS = ("push", "workflow_dispatch", "repository_dispatch")
CLASSROOM_BOT = "github-classroom[bot]"
SKEW = timedelta(seconds=5)  # a dispatched run's created_at may precede the 204's Date by this much
NO_RUN_AFTER = timedelta(hours=1)  # stop waiting for a dispatched run that never appeared
CLASSROOM_NOTE = (
    "GitHub Classroom replaced {path} with its own autograding workflow (tests were added in the "
    "assignment's settings): remove them there and restore the lab's workflow (see docs/instructors.md)"
)


@dataclass
class CollectOptions:
    org: str
    prefix: str
    workflow: str = "classroom.yml"
    template: str | None = None
    template_ref: str | None = None  # one template version; template_refs holds any number
    template_refs: list[str] = field(default_factory=list)  # every template version students may hold
    artifact: str = ARTIFACT
    reports_dir: Path | None = None  # where downloaded artifacts are kept (for `autograde export`)
    state_path: Path | None = None
    roster: list[RosterEntry] | None = None  # with a roster only the students' repositories are used
    assignment_id: int | None = None  # GitHub Classroom's assignment: its accepted assignments, not the listing


# --------------------------------------------------------------------------- state


class CollectState:
    """Repositories already collected, kept in a JSON file so that a rerun resumes.

    `dispatched[repo]`: {"at": GitHub's time of the dispatch, "run_id": id or None} for a regrade
    that was asked for; {"uncertain": GitHub's time} when the dispatch got no clear answer.
    """

    def __init__(self, path: Path | None, key: dict[str, Any]) -> None:
        self.path = path
        self.key = key
        self.done: dict[str, dict[str, Any]] = {}
        self.dispatched: dict[str, dict[str, Any]] = {}
        self.discarded = False

    def load(self) -> None:
        """Read the resume file. Raises nothing: an unreadable one, or one of another collection, is `discarded`."""
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
        self.dispatched = {k: v for k, v in (data.get("dispatched") or {}).items() if isinstance(v, dict)}

    def save(self) -> None:
        """Write the resume file atomically. Raises OSError when it cannot be written."""
        if not self.path:
            return
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(
            json.dumps(
                {"schema": STATE_SCHEMA, "key": self.key, "done": self.done, "dispatched": self.dispatched}, indent=1
            ),
            encoding="utf-8",
        )
        os.replace(tmp, self.path)


# --------------------------------------------------------------------------- collector


_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")


def safe_dirname(name: str) -> str:
    name = _SAFE_NAME.sub("_", name)[:100]
    return name if name.strip(".") else "_"


@dataclass
class CollectOutcome:
    rows: list[Row] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (repository, reason): not done, retry
    skipped: int = 0  # done in an earlier run
    matching: RepoMatch | None = None  # with a roster: which repositories are whose
    classroom_workflow: list[str] = field(default_factory=list)  # repositories running Classroom's own workflow


def usable_run(run: dict[str, Any], full: str) -> bool:
    """A completed run that graded the repository's own branch (not a PR, not Classroom's bot)."""
    head_repo = str((run.get("head_repository") or {}).get("full_name") or full)
    actor = str((run.get("triggering_actor") or run.get("actor") or {}).get("login") or "")
    return (
        run.get("status") == "completed"
        and run.get("event") in GRADED_EVENTS
        and head_repo.lower() == full.lower()
        and actor != CLASSROOM_BOT
    )


def newest_artifact(artifacts: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    """The newest artifact of that name (a re-run of the job may have uploaded another)."""
    named = [a for a in artifacts if isinstance(a, dict) and a.get("name") == name]
    return max(named, key=lambda a: (str(a.get("created_at") or ""), int(a.get("id") or 0)), default=None)


class Collector:
    def __init__(self, client: GitHubClient, options: CollectOptions, display: Display | None = None) -> None:
        self.client = client
        self.o = options
        self.display = display or Display()
        self.paths = tamper.watched(options.workflow)
        self.workflow_path = f".github/workflows/{options.workflow}"
        self.template_tree: tamper.Tree | None = None
        self.template_trees: list[tamper.Tree] = []  # one per --template-ref; a student is judged by the closest
        self.template_ref: str | None = options.template_ref
        self._classroom: dict[tuple[str, str], bool] = {}

    def say(self, text: str) -> None:
        self.display.say(text)

    def state_key(self) -> dict[str, Any]:
        return {
            "org": self.o.org.lower(),
            "prefix": self.o.prefix.lower(),
            "workflow": self.o.workflow,
            "template": (self.o.template or "").lower(),
            "template_ref": ",".join(self._refs()) if self._refs() else "",
            **({"assignment_id": self.o.assignment_id} if self.o.assignment_id is not None else {}),
        }

    @property
    def _q_workflow(self) -> str:
        return urllib.parse.quote(self.o.workflow, safe="")

    # ------------------------------------------------------------------ which repositories

    def list_repositories(self) -> list[dict[str, Any]]:
        """The org's repositories named `<prefix>-...` (GitHub Classroom's naming), sorted by name; with
        `assignment_id`, the repositories of the assignment's accepted assignments instead, each under the
        name Classroom gave it (`name`, hence its student) and where it is now (`full_name`), so that a
        repository renamed by its student keeps its student's row.

        Raises UserError when the assignment is not found, GitHubError when it or the organization cannot
        be read.
        """
        if self.o.assignment_id is None:
            return of_assignment(list_all(self.client, self.o.org), self.o.prefix, self.o.template)
        accepted = classroom_repositories(self.client, self.o.assignment_id, self.o.prefix)
        return [{**repo, "name": identity.name, "id": identity.id} for identity, repo in accepted]

    def assignment_repositories(self, repos: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], RepoMatch | None]:
        """With a roster: one repository per student (see roster.match_repositories); else all of them.

        Raises nothing: a repository whose collaborators cannot be listed is said and matched by name only.
        """
        if self.o.roster is None:
            return repos, None
        names = [str(r["name"]) for r in repos]
        created = {str(r["name"]): str(r.get("created_at") or "") for r in repos}
        matching = match_repositories(names, self.o.prefix, self.o.roster, created=created)
        waiting_ids = any(e.github_id and e not in matching.matched for e in self.o.roster)
        if matching.unmatched and waiting_ids:  # renamed accounts: ask who works in the leftovers
            by_name = {str(r["name"]): r for r in repos}
            collaborators: dict[str, list[tuple[str, str]]] = {}
            for name in matching.unmatched:
                try:
                    people = list(
                        self.client.paginate(
                            f"/repos/{by_name[name]['full_name']}/collaborators", {"affiliation": "direct"}
                        )
                    )
                except GitHubError as e:  # e.g. a token that may not list collaborators: names only
                    self.say(f"autograde: {name}: cannot list its collaborators ({e.message}); matched by name only")
                    continue
                collaborators[name] = [
                    (str(p.get("login", "")), str(p.get("id", ""))) for p in people if isinstance(p, dict)
                ]
            matching = match_repositories(
                names, self.o.prefix, self.o.roster, created=created, collaborators=collaborators
            )
        chosen = {n.lower() for n in matching.matched.values()}
        return [r for r in repos if str(r["name"]).lower() in chosen], matching

    def report_matching(self, matching: RepoMatch | None) -> None:
        if matching is None:
            return
        if matching.unmatched:
            self.say(
                f"autograde: {len(matching.unmatched)} repositories named {self.o.prefix}-* match no student in "
                f"the roster and are left out: {', '.join(matching.unmatched)}"
            )
        for entry, older in matching.superseded.items():
            self.say(f"autograde: {entry.login}: using {matching.matched[entry]}, not the older {', '.join(older)}")

    def _refs(self) -> list[str]:
        refs = list(self.o.template_refs)
        if self.o.template_ref and self.o.template_ref not in refs:
            refs.insert(0, self.o.template_ref)
        return refs

    def load_template(self) -> None:
        """Read the template's watched files at each --template-ref (default: its default branch). Raises GitHubError
        when the template cannot be read.
        """
        if not self.o.template:
            return
        refs = self._refs() or [str(self.client.get(f"/repos/{self.o.template}")["default_branch"])]
        self.template_ref = refs[-1]
        self.template_trees = []
        for ref in refs:
            tree = tamper.fetch_tree(self.client, self.o.template, ref, self.paths)
            if not tree.blobs:
                self.say(
                    f"autograde: warning: the template {self.o.template}@{ref} has none of "
                    f"{', '.join(self.paths)}; the tamper check flags every such file"
                )
            self.template_trees.append(tree)
        self.template_tree = self.template_trees[-1]

    def runs_classroom_workflow(self, full: str, ref: str) -> bool:
        """Is the grading workflow at ref the one GitHub Classroom writes for its own autograding?

        Raises GitHubError when the workflow file cannot be read (a missing one is not Classroom's).
        """
        key = (full.lower(), ref)
        if key not in self._classroom:
            try:
                resp = self.client.request(
                    "GET",
                    f"/repos/{full}/contents/{self.workflow_path}",
                    params={"ref": ref},
                    accept="application/vnd.github.raw+json",
                    raw=True,
                )
                text = resp.content.decode("utf-8", "replace")
            except NotFound:
                text = ""
            self._classroom[key] = tamper.is_classroom_autograding(text)
        return self._classroom[key]

    # ------------------------------------------------------------------ one repository

    def list_runs(self, full: str, branch: str) -> tuple[list[dict[str, Any]], datetime | None]:
        """The newest runs of the workflow on branch (any status), and GitHub's time of the first answer.

        More pages are read (up to RUN_PAGES) only while fewer than RUNS_TO_TRY usable runs were
        seen, e.g. behind a burst of pull-request runs.

        Raises GitHubError; NotFound when the workflow does not exist.
        """
        url: str | None = f"/repos/{full}/actions/workflows/{self._q_workflow}/runs"
        params: dict[str, Any] | None = {"branch": branch, "per_page": RUNS_TO_LIST}
        runs: list[dict[str, Any]] = []
        now = None
        for _ in range(RUN_PAGES):
            if url is None:
                break
            resp = self.client.request("GET", url, params=params)
            now = now or server_time(resp)
            data = self.client.json(resp)
            page = data.get("workflow_runs") if isinstance(data, dict) else None
            runs.extend(r for r in page or [] if isinstance(r, dict))
            url, params = (resp.links.get("next") or {}).get("url"), None
            if not url or sum(1 for r in runs if usable_run(r, full)) >= RUNS_TO_TRY:
                break
        return runs, now

    def regrade_run(
        self, full: str, runs: list[dict[str, Any]], asked: dict[str, Any], now: datetime | None
    ) -> dict[str, Any] | None:
        """The run a regrade started, if it has finished. Raises a transient error while it has not."""
        run: dict[str, Any] | None = None
        if asked.get("run_id"):
            run = next((r for r in runs if r.get("id") == asked["run_id"]), None)
            if run is None:
                try:
                    run = self.client.get(f"/repos/{full}/actions/runs/{int(asked['run_id'])}")
                except NotFound:
                    run = None
        else:
            since = parse_time(str(asked.get("at") or asked.get("uncertain") or ""))
            if since is not None:
                mine = [
                    r
                    for r in runs
                    if r.get("event") == "workflow_dispatch"
                    and (parse_time(r.get("created_at")) or since) >= since - SKEW
                ]
                run = min(mine, key=lambda r: str(r.get("created_at") or ""), default=None)
                if run is None and "at" in asked and now is not None and now - since < NO_RUN_AFTER:
                    raise GitHubError(0, "the regrade run has not started yet", f"/repos/{full}", transient=True)
        if run is not None and run.get("status") != "completed":
            raise GitHubError(0, "the regrade run has not completed yet", f"/repos/{full}", transient=True)
        return run

    def collect_repo(self, repo: dict[str, Any], dispatched: dict[str, Any] | None = None) -> Row:
        """One repository's row. What is the student's (no run, an expired or bad report, a mismatch, tampering) is in
        the row. Raises GitHubError when it cannot be collected now, OSError when the downloaded artifact cannot be
        kept.
        """
        full = str(repo["full_name"])
        row = Row(repository=full, login=login_from_repo(str(repo["name"]), self.o.prefix))
        branch = str(repo.get("default_branch") or "main")
        q_branch = urllib.parse.quote(branch, safe="")
        try:
            head = self.client.get(f"/repos/{full}/branches/{q_branch}")
        except NotFound:
            return self._missing(row, f"repository or branch {branch} not found (deleted, empty or no access)")
        head_sha = str(head.get("commit", {}).get("sha") or "")
        head_date = parse_time(((head.get("commit", {}).get("commit") or {}).get("committer") or {}).get("date"))

        try:
            runs, now = self.list_runs(full, branch)
        except NotFound:
            return self._missing(row, f"workflow {self.o.workflow} not found")
        regrade = self.regrade_run(full, runs, dispatched, now) if dispatched else None
        usable = [r for r in runs if usable_run(r, full)]
        if regrade is not None:
            usable = [regrade] + [r for r in usable if r.get("id") != regrade.get("id")]
        if not usable:
            row = self._missing(
                row,
                f"no completed run of {self.o.workflow} on {branch}"
                + (" (pull-request runs are not used)" if any(r.get("event") == "pull_request" for r in runs) else ""),
            )
            self._classroom_check(row, full, head_sha or branch)
            return row

        report = None
        for run in usable[:RUNS_TO_TRY]:
            artifacts = (
                self.client.get(
                    f"/repos/{full}/actions/runs/{int(run['id'])}/artifacts", {"name": self.o.artifact}
                ).get("artifacts")
                or []
            )
            art = newest_artifact(artifacts, self.o.artifact)
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
            good, bad = reports_from_zip_bytes(data, origin)
            self._keep(origin, data)
            if not good:
                row.flags.update({"missing", "bad-report"})
                row.notes.extend(f"bad report {b.path}: {b.reason}" for b in bad[:3])
                return row
            report = best_report(good)
            break
        if report is None:
            row = self._missing(
                row, f"no {self.o.artifact} artifact in the last {min(len(usable), RUNS_TO_TRY)} usable runs"
            )
            self._classroom_check(row, full, str(usable[0].get("head_sha") or head_sha or branch))
            return row

        assert run is not None and art is not None  # the loop above found the report in this run's artifact
        run_sha = str(run.get("head_sha") or "")
        graded = row_from_report(report, full)
        graded.repository, graded.login = full, row.login
        graded.commit = run_sha or graded.commit
        # the repository, under its name now or (renamed since it was graded) the name Classroom gave it
        own = {full.lower(), f"{self.o.org}/{repo['name']}".lower()}
        if report.repository and report.repository.lower() not in own:
            graded.flags.add("mismatch")
            graded.notes.append(f"report names another repository ({report.repository})")
        if report.commit and run_sha and report.commit.lower() != run_sha.lower():
            graded.flags.add("mismatch")
            graded.notes.append(
                f"report says commit {report.commit[:12]}, its {run.get('event')} run "
                f"{run.get('id')} graded {run_sha[:7]}"
            )
        attempt = int(run.get("run_attempt") or 1)
        started = parse_time(run.get("run_started_at"))
        made = parse_time(art.get("created_at"))
        if attempt > 1 and started and made and made < started:
            graded.flags.add("stale")
            graded.notes.append(
                f"report from an earlier attempt of run {run.get('id')}: attempt {attempt} uploaded none"
            )
        if head_sha and run_sha and run_sha != head_sha:
            graded.flags.add("stale")
            graded.notes.append(f"graded {run_sha[:7]}, branch {branch} is at {head_sha[:7]}")
        elif not run_sha:
            when = parse_time(graded.graded_at)
            if when and head_date and when < head_date:
                graded.flags.add("stale")
                graded.notes.append("graded before the newest commit")
        if self.template_trees and graded.commit:
            student = tamper.fetch_tree(self.client, full, graded.commit, self.paths)
            template = tamper.closest(self.template_trees, student)
            changed = set(tamper.diff(template.blobs, student.blobs))
            if self.workflow_path in changed and self._classroom_check(graded, full, graded.commit):
                changed.discard(self.workflow_path)  # Classroom wrote it, not the student
            graded.tampered.update(changed)
            if student.truncated or template.truncated:
                graded.notes.append("tree listing truncated by GitHub: tamper check incomplete")
        return graded

    def _classroom_check(self, row: Row, full: str, ref: str) -> bool:
        if not self.runs_classroom_workflow(full, ref):
            return False
        row.notes.append(CLASSROOM_NOTE.format(path=self.workflow_path))
        row.tampered.discard(self.workflow_path)
        return True

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

    def collect(self) -> CollectOutcome:
        """Every assignment repository's row, resuming from the state file. A repository that cannot be collected now
        is in `failed`. Raises GitHubError when the organization or the template cannot be read, OSError when the
        state file or a kept artifact cannot be written.
        """
        state = CollectState(self.o.state_path, self.state_key())
        state.load()
        if state.discarded:
            self.say(f"autograde: {self.o.state_path} is from another collection; starting over")
        listed = self.list_repositories()
        repos, matching = self.assignment_repositories(listed)
        out = CollectOutcome(matching=matching)
        todo = []
        for repo in repos:
            done = state.done.get(str(repo["full_name"]))
            if done is not None:
                out.rows.append(Row.from_dict(done))
                out.skipped += 1
            else:
                todo.append(repo)
        self.say(
            f"autograde: {len(listed)} repositories named {self.o.prefix}-* in {self.o.org}"
            + (f", {len(repos)} of rostered students" if matching is not None else "")
            + (f"; {out.skipped} already collected, {len(todo)} to go" if out.skipped else "")
        )
        self.report_matching(matching)
        if todo:
            self.load_template()
        progress = self.display.progress(len(todo))
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
            progress.close()
        out.classroom_workflow = sorted(
            r.repository for r in out.rows if any(n.startswith("GitHub Classroom replaced") for n in r.notes)
        )
        return out

    # ------------------------------------------------------------------ regrade

    def _found_dispatched_run(self, full: str, branch: str, since: datetime) -> dict[str, Any] | None:
        """A workflow_dispatch run created since `since` (GitHub's time): an earlier unanswered dispatch."""
        runs, _ = self.list_runs(full, branch)
        return next(
            (
                r
                for r in runs
                if r.get("event") == "workflow_dispatch" and (parse_time(r.get("created_at")) or since) >= since - SKEW
            ),
            None,
        )

    def dispatch(self, full: str, branch: str) -> dict[str, Any]:
        """Trigger the workflow once; returns the state record ({"at", "run_id"}).

        Raises GitHubError; `Uncertain` when GitHub may have started the run all the same.
        """
        path = f"/repos/{full}/actions/workflows/{self._q_workflow}/dispatches"
        try:
            resp = self.client.post(path, {"ref": branch, "return_run_details": True})
        except GitHubError as e:
            if e.status != 422 or "return_run_details" not in e.message:
                raise
            resp = self.client.post(path, {"ref": branch})  # an older GitHub Enterprise Server: 422, nothing ran
        at = server_time(resp) or self.client.server_now()
        run_id = None
        if resp.status_code == 200 and resp.content:
            try:
                run_id = int(resp.json().get("workflow_run_id"))
            except (AttributeError, TypeError, ValueError):
                run_id = None
        return {"at": at.isoformat(timespec="seconds"), "run_id": run_id}

    def regrade(self) -> CollectOutcome:
        """Trigger the grading workflow (workflow_dispatch) on every assignment repository's default branch.

        A repository that could not be triggered is in `failed`. Raises GitHubError when the organization cannot be
        listed, OSError when the state file cannot be written.
        """
        state = CollectState(self.o.state_path, self.state_key())
        state.load()
        repos, matching = self.assignment_repositories(self.list_repositories())
        self.report_matching(matching)
        out = CollectOutcome(matching=matching)
        progress = self.display.progress(len(repos))
        previous, self.client.listener = self.client.listener, progress
        try:
            for repo in repos:
                full = str(repo["full_name"])
                branch = str(repo.get("default_branch") or "main")
                record = state.dispatched.get(full)
                try:
                    if record and "uncertain" in record:
                        since = parse_time(str(record["uncertain"]))
                        run = self._found_dispatched_run(full, branch, since) if since else None
                        if run is not None:
                            state.dispatched[full] = {"at": record["uncertain"], "run_id": run.get("id")}
                            state.done.pop(full, None)
                            state.save()
                            progress.step(
                                str(repo["name"]),
                                f"already triggered (the unanswered request did start run {run.get('id')})",
                            )
                            continue
                    elif record:
                        out.skipped += 1
                        progress.step(str(repo["name"]), "already triggered")
                        continue
                    state.dispatched[full] = self.dispatch(full, branch)
                except Uncertain as e:
                    state.dispatched[full] = {"uncertain": self.client.server_now().isoformat(timespec="seconds")}
                    state.save()
                    out.failed.append((full, f"{e}; the next --regrade looks for its run before sending again"))
                    progress.step(str(repo["name"]), f"unknown whether triggered ({e.message})")
                    continue
                except GitHubError as e:
                    reason = e.message
                    if (
                        e.status == 422
                        and "workflow_dispatch" in e.message
                        and self.runs_classroom_workflow(full, branch)
                    ):
                        reason = CLASSROOM_NOTE.format(path=self.workflow_path)
                        out.classroom_workflow.append(full)
                    out.failed.append((full, f"{reason} (HTTP {e.status})" if e.status else reason))
                    progress.step(str(repo["name"]), f"not triggered ({reason})")
                    continue
                state.done.pop(full, None)  # the next collect fetches the new report
                state.save()
                progress.step(str(repo["name"]), f"triggered {self.o.workflow} on {branch}")
        finally:
            self.client.listener = previous
            progress.close()
        return out
