"""Grade many checkouts on one engine: `autograde grade` per checkout, N at once, shared dev builds.

Each checkout is graded by a child `python -m autograde grade` of this same installation (never a
student's copy of the grader), in its own session and compose project, with reports written to
the reports folder. A dev image is built once for each group of checkouts whose dev build inputs
are byte-identical (see grade_all_policy.dev_digest) and handed to their grades with `--dev-image`;
every prod image is built by its own grade from that student's files, under per-project tags.
On Ctrl-C or SIGTERM the children get SIGTERM (they stop and remove what they started), and
whatever a child could not remove is swept by its project label.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograde import labs
from autograde.instructor.grade_all_policy import (
    KIND_FLAG,
    META_DIR,
    Entry,
    Meta,
    report_paths,
    save_meta,
    shared_groups,
)
from autograde.runtime.cleanup import sweep
from autograde.util import Processes

TERM_GRACE = 120.0  # seconds a child gets to stop and clean up after SIGTERM


@dataclass
class BatchOptions:
    reports: Path
    jobs: int
    timeout: float  # wall-clock limit per checkout
    grade_args: list[str] = field(default_factory=list)  # passed through to `autograde grade`
    build_timeout: float = 600.0
    share_dev: bool = True
    keep_images: bool = False
    python: str = sys.executable


def child_env(repository: str) -> dict[str, str]:
    """The environment of one grade: no GitHub variables of the grading run (token, outputs, workflow
    commands), only the repository name the report should carry."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "COMPOSE_", "RUNNER_"))}
    env.pop("GH_TOKEN", None)
    if "/" in repository:
        env["GITHUB_REPOSITORY"] = repository
    return env


class SharedDev:
    """Dev images built once per group of byte-identical dev inputs, removed at the end of the batch."""

    def __init__(self, batch_id: str, build_timeout: float) -> None:
        self.batch_id = batch_id
        self.build_timeout = build_timeout
        self.procs = Processes()
        self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="autograde-dev")
        self.futures: dict[str, Future[str | None]] = {}
        self.notes: dict[str, str] = {}  # digest -> why the shared build failed
        self.projects: list[str] = []
        self.tags: list[str] = []

    def start(self, digest: str, checkout: Path) -> None:
        n = len(self.futures)
        project = f"autograde-{self.batch_id}-dev{n}"
        tag = f"{project}-web-dev:shared"
        self.projects.append(project)
        self.tags.append(tag)
        self.futures[digest] = self.pool.submit(self._build, digest, checkout, project, tag)

    def _build(self, digest: str, checkout: Path, project: str, tag: str) -> str | None:
        import docker

        scenario = labs.current().scenario
        service = scenario.compare_service or ""

        fd, name = tempfile.mkstemp(prefix=f"{project}-", suffix=".yml")
        override = Path(name)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(f"services:\n  {json.dumps(service)}:\n    image: {json.dumps(tag)}\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("COMPOSE_", "GITHUB_"))}
        env["COMPOSE_PROJECT_NAME"] = project
        try:
            ran = self.procs.run(
                [
                    "docker",
                    "compose",
                    "--progress",
                    "plain",
                    "-p",
                    project,
                    "-f",
                    str(checkout / (scenario.compare_file or "")),
                    "-f",
                    str(override),
                    "--project-directory",
                    str(checkout),
                    "build",
                    service,
                ],
                timeout=self.build_timeout,
                cwd=str(checkout),
                env=env,
            )
        finally:
            override.unlink(missing_ok=True)
        if ran.returncode != 0:
            why = "timed out" if ran.timed_out else (ran.tail.strip().splitlines() or ["failed"])[-1][:200]
            self.notes[digest] = f"the shared dev build failed ({why}); each checkout builds its own"
            return None
        client = docker.from_env(timeout=60)
        try:
            return str(client.images.get(tag).id)  # by id: no later tag change can swap the image
        except Exception as e:
            self.notes[digest] = f"the shared dev image is missing after its build ({e})"
            return None
        finally:
            client.close()

    def get(self, digest: str, stopping: threading.Event) -> str | None:
        future = self.futures.get(digest)
        if future is None:
            return None
        while not stopping.is_set():
            try:
                return future.result(timeout=0.5)
            except TimeoutError:
                continue
            except Exception as e:  # the engine went away mid-build: students build their own
                self.notes[digest] = f"the shared dev build failed ({type(e).__name__}: {e})"
                return None
        return None

    def stop(self) -> None:
        self.procs.stop_all()

    def cleanup(self, keep: bool) -> list[str]:
        self.procs.stop_all()
        self.pool.shutdown(wait=True, cancel_futures=True)
        problems: list[str] = []
        for project, tag in zip(self.projects, self.tags, strict=True):
            problems += sweep(project, () if keep else (tag,), images=not keep)
        return problems


class Batch:
    """Grade entries N at once; `on_done(meta)` is called in the main thread as each one finishes."""

    def __init__(self, options: BatchOptions, on_done: Callable[[Meta], None] | None = None) -> None:
        self.o = options
        self.on_done = on_done or (lambda m: None)
        self.batch_id = secrets.token_hex(4)
        self.stopping = threading.Event()
        self.shared = SharedDev(self.batch_id, options.build_timeout)
        self.digest_of: dict[str, str] = {}
        self._count = 0
        self._lock = threading.Lock()
        self.leftovers: list[str] = []
        self.unfit = ""  # the grading machine was found unfit by a grade: no new grade starts
        # per slot (grading thread): the engine's cgroup parent as the slot's last grade found it, when nothing was
        # suspect then; the slot's next grade only reads the disk instead of checking the whole machine again
        self._known: dict[str, str] = {}

    # ------------------------------------------------------------------ the batch

    def run(self, entries: list[Entry]) -> bool:
        """Grade the entries; False if interrupted (Ctrl-C or SIGTERM).

        Every grade started is stopped and its resources removed before this returns, also on an unexpected error,
        which is raised again then; OSError when the reports folder cannot be made.
        """
        (self.o.reports / META_DIR).mkdir(parents=True, exist_ok=True)
        main = threading.current_thread() is threading.main_thread()
        previous = signal.getsignal(signal.SIGTERM)
        previous_int = signal.getsignal(signal.SIGINT)  # SIG_IGN when started by nohup or as a background job
        if main:
            signal.signal(signal.SIGTERM, _raise_interrupt)
        pool = ThreadPoolExecutor(max_workers=max(1, self.o.jobs), thread_name_prefix="autograde-grade")
        try:
            gradable = [e for e in entries if e.kind == "ok"]
            for e in entries:
                if e.kind != "ok":
                    self._record_bad(e)
            if self.o.share_dev:
                for digest, group in shared_groups(gradable).items():
                    self.shared.start(digest, group[0].path)
                    for e in group:
                        self.digest_of[e.name] = digest
            # checkouts that build their own dev image first: they need not wait for a shared build
            order = sorted(gradable, key=lambda e: e.name in self.digest_of)
            pending = {pool.submit(self._one, e) for e in order}
            while pending:
                done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                for f in done:
                    self.on_done(f.result())
            return True
        except KeyboardInterrupt:
            self.stopping.set()
            self.shared.stop()
            if main:  # a second signal must not cut the cleanup short
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
            pool.shutdown(wait=True, cancel_futures=True)
            return False
        finally:
            self.stopping.set()  # also on an unexpected error: no grade may outlive the batch
            pool.shutdown(wait=True, cancel_futures=True)
            self.leftovers += self.shared.cleanup(self.o.keep_images)
            if main:
                signal.signal(signal.SIGTERM, previous)
                signal.signal(signal.SIGINT, previous_int if previous_int is not None else signal.default_int_handler)

    def _record_bad(self, e: Entry) -> None:
        for p in report_paths(self.o.reports, e.name):
            p.unlink(missing_ok=True)
        meta = Meta(
            e.name,
            e.repository,
            e.kind,
            [KIND_FLAG.get(e.kind, e.kind), *e.flags],
            [e.note] if e.note else [],
            e.commit,
            e.pushed_at,
            login=e.login,
            repository_id=e.repository_id,
        )
        save_meta(self.o.reports, meta)
        self.on_done(meta)

    # ------------------------------------------------------------------ one checkout

    def _one(self, e: Entry) -> Meta:
        start = time.monotonic()
        meta = Meta(
            e.name,
            e.repository,
            "interrupted",
            list(e.flags),
            [],
            e.commit,
            e.pushed_at,
            login=e.login,
            repository_id=e.repository_id,
        )
        if e.note:
            meta.notes.append(e.note)
        if self.stopping.is_set():
            return meta
        if self.unfit:
            meta.notes.append(f"not graded: the grading machine is unfit ({self.unfit}); graded on the next run")
            save_meta(self.o.reports, meta)
            return meta
        digest = self.digest_of.get(e.name)
        dev_ref = self.shared.get(digest, self.stopping) if digest else None
        if digest and dev_ref is None and digest in self.shared.notes:
            meta.notes.append(self.shared.notes[digest])
        if self.stopping.is_set():
            return meta
        meta.shared_dev = dev_ref is not None
        with self._lock:
            self._count += 1
            # the grader's own project name form (autograde-<12 hex>): batch id + a counter
            project = f"autograde-{self.batch_id}{self._count:04x}"
        json_path, junit_path = report_paths(self.o.reports, e.name)
        for p in (json_path, junit_path):
            p.unlink(missing_ok=True)
        argv = [
            self.o.python,
            "-m",
            "autograde",
            "grade",
            str(e.path),
            "--host-port",
            "auto",
            "--json",
            str(json_path),
            "--junit",
            str(junit_path),
            "--project",
            project,
            "--lab",
            labs.current().id,  # the class's lab, whatever a checkout declares
            "--no-early-start",  # the class is bound by the machine's CPU: no Compose run for a wait nobody sees
            *self.o.grade_args,
        ]
        if dev_ref:
            argv += ["--dev-image", dev_ref]
        slot = threading.current_thread().name
        with self._lock:
            known = self._known.pop(slot, None)
        if known is not None:
            argv += ["--machine-known", known]
        log_path = self.o.reports / META_DIR / f"{e.name}.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=child_env(e.repository),
                start_new_session=True,
            )
            deadline = start + self.o.timeout
            why = ""
            while True:
                try:
                    rc = proc.wait(timeout=0.5)
                    break
                except subprocess.TimeoutExpired:
                    if self.stopping.is_set():
                        why = "interrupted"
                    elif time.monotonic() > deadline:
                        why = "timeout"
                    else:
                        continue
                    self._terminate(proc, project)
                    rc = None
                    break
        meta.seconds = round(time.monotonic() - start, 1)
        if why:
            for p in (json_path, junit_path):
                p.unlink(missing_ok=True)
            meta.status = why
            if why == "timeout":
                meta.flags.append("timeout")
                meta.notes.append(
                    f"grading took longer than {self.o.timeout:g} s and was stopped "
                    "(everything it started was removed); not graded"
                )
                save_meta(self.o.reports, meta)
            else:
                save_meta(self.o.reports, meta)  # not done: a resumed run grades it again
            return meta
        if _readable(json_path):
            meta.status = "graded"
            found = _machine_found(json_path)
            if found is not None:
                with self._lock:
                    self._known[slot] = found
            unfit = _machine_unfit(json_path)
            if unfit:  # never a grade that counts: graded again by the next run
                with self._lock:
                    self.unfit = self.unfit or unfit
                meta.status = "failed"
                meta.flags.append("error")
                meta.notes.append(f"graded while the grading machine was unfit ({unfit}); graded again on the next run")
        else:
            meta.status = "failed"
            meta.flags.append("error")
            tail = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:]
            meta.notes.append(f"the grader exited {rc} without a report: " + " | ".join(tail)[-300:])
        save_meta(self.o.reports, meta)
        return meta

    def _terminate(self, proc: subprocess.Popen[bytes], project: str) -> None:
        """SIGTERM (the grade stops its builds and removes everything), SIGKILL if it will not, then sweep."""
        try:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=TERM_GRACE)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            proc.wait()
        except ProcessLookupError:
            pass
        self.leftovers += sweep(project, (f"{project}-web-prod:graded", f"{project}-web-dev:graded"))


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _machine_found(path: Path) -> str | None:
    """The engine's cgroup parent the grade that wrote this report found ("" for none), when the grade left
    nothing suspect about the machine; None when the next grade of its slot must check the machine fully."""
    try:
        machine = json.loads(path.read_text(encoding="utf-8")).get("grader", {}).get("machine") or {}
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(machine, dict) or machine.get("fit") is not True or machine.get("suspect") is not False:
        return None
    parent = machine.get("cgroups")
    return parent if isinstance(parent, str) and (parent == "" or parent.startswith("/")) else None


def _machine_unfit(path: Path) -> str:
    """Why the grading machine was unfit during the grade that wrote this report, or ""."""
    try:
        machine = json.loads(path.read_text(encoding="utf-8")).get("grader", {}).get("machine") or {}
    except (OSError, ValueError, AttributeError):
        return ""
    return str(machine.get("problem") or "") if isinstance(machine, dict) and machine.get("fit") is False else ""


def _readable(path: Path) -> bool:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(doc, dict) and isinstance(doc.get("checks"), list)
