"""`autograde grade [DIR]`: parse, run static checks, run the runtime session, report, clean up.

Exit status: 0 every check passed (full marks); 1 points were lost; 2 usage error, grader
error (a check with status `error`, e.g. no Docker engine) or an interrupted run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from autograde import __version__, labs
from autograde.checks import disagreements as evidence_disagreements
from autograde.checks import grade as grade_checks
from autograde.checks import rubric_in_effect
from autograde.checks.base import Context
from autograde.errors import EXIT_ERROR, EXIT_OK, EXIT_POINTS_LOST, UserError
from autograde.model import load_submission
from autograde.results import GradingResults, ImageFacts
from autograde.rubric import ENV_VAR, Rubric, RubricError
from autograde.runtime.facts import Facts


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", nargs="?", default=".", help="the checkout to grade (default: .)")
    parser.add_argument("--json", metavar="FILE", help="write the JSON report here")
    parser.add_argument("--junit", metavar="FILE", help="write the JUnit XML report here")
    parser.add_argument(
        "--rubric", metavar="FILE", help=f"instructor's rubric (YAML); default: the YAML text of ${ENV_VAR}, if set"
    )
    parser.add_argument("--static-only", action="store_true", help="grade the files only; no Docker needed")
    parser.add_argument(
        "--classroom", action="store_true", help="write the GitHub Classroom reporter's step outputs to $GITHUB_OUTPUT"
    )
    parser.add_argument(
        "--classroom-notice",
        action="store_true",
        help="print the Classroom dashboard notices (Points X/Y) at the very end",
    )
    run = parser.add_argument_group("runtime")
    run.add_argument(
        "--host-port",
        type=_port,
        help="host port for web_prod during grading: a number (that port, or an error if it is in use) or `auto` "
        "for a free one (default: 5005, or a free one when 5005 is in use)",
    )
    run.add_argument("--build-timeout", type=float, default=600, metavar="S", help="per build (default 600)")
    run.add_argument(
        "--ready-timeout",
        type=float,
        default=60,
        metavar="S",
        help="for the app to answer after start or restart (default 60)",
    )
    run.add_argument("--request-timeout", type=float, default=5, metavar="S", help="per HTTP request (default 5)")
    run.add_argument(
        "--stop-timeout", type=int, default=1, metavar="S", help="grace period when stopping containers (default 1)"
    )
    run.add_argument(
        "--keep-images",
        action="store_true",
        help="keep the images the grader built (until a later grade needs the disk: see --min-free-disk)",
    )
    add_cap_arguments(run)
    # used by `grade-all`: a dev image it built once from byte-identical dev files, and the project name
    run.add_argument("--dev-image", metavar="REF", help=argparse.SUPPRESS)
    run.add_argument("--project", metavar="NAME", help=argparse.SUPPRESS)
    # used by `grade-all`: the engine's cgroup parent as the previous grade of this slot found it (the machine was
    # fine then): only the disk is checked before this grade
    run.add_argument("--machine-known", metavar="CGROUP", help=argparse.SUPPRESS)
    # used by `grade-all`: Redis starts with the stack, not while the images are built (a class is bound by the
    # machine's CPU, and the early start costs one more Compose run for a wait nobody sees there)
    run.add_argument("--no-early-start", action="store_true", help=argparse.SUPPRESS)


def add_cap_arguments(group: Any) -> None:
    """The resource caps of a grade's containers and build steps, and the machine's free-disk floor: one
    definition for `grade` and `grade-all` (which passes them on to each grade)."""
    group.add_argument("--memory", default="512m", help="memory cap per container (default 512m)")
    group.add_argument("--pids", type=int, default=256, help="process cap per container (default 256)")
    group.add_argument("--cpus", type=float, default=1.0, help="CPU cap per container (default 1.0)")
    group.add_argument(
        "--build-memory", default="2g", type=_size, metavar="SIZE", help="memory cap per RUN step (default 2g)"
    )
    group.add_argument("--build-pids", type=int, default=512, help="process cap per RUN step (default 512)")
    group.add_argument("--build-cpus", type=float, default=2.0, help="CPU cap per RUN step (default 2.0)")
    group.add_argument(
        "--min-free-disk",
        default="1g",
        type=_size,
        metavar="SIZE",
        help="free disk the Docker engine needs before a grade; below it the grader first removes what its "
        "earlier grades left (their build cache, then images), and a machine still short is an error (default 1g)",
    )


def _size(text: str) -> str:
    from autograde.runtime.cgroups import parse_bytes

    try:
        parse_bytes(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return text


def _session_options(args: argparse.Namespace) -> Any:
    """The runtime session's options from the command line."""
    from autograde.runtime.session import SessionOptions

    return SessionOptions(
        **host_port_options(args.host_port),
        build_timeout=args.build_timeout,
        ready_timeout=args.ready_timeout,
        request_timeout=args.request_timeout,
        stop_timeout=args.stop_timeout,
        keep_images=args.keep_images,
        memory=args.memory,
        pids=args.pids,
        cpus=args.cpus,
        dev_image=args.dev_image,
        build_memory=args.build_memory,
        build_pids=args.build_pids,
        build_cpus=args.build_cpus,
        min_free_disk=args.min_free_disk,
        machine_known=args.machine_known,
        early_start=not args.no_early_start,
    )


def _port(text: str) -> int:
    """A port number; `auto` is 0 (any free port)."""
    if text == "auto":
        return 0
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number or `auto`") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a valid port")
    return port


def host_port_options(value: int | None) -> dict[str, Any]:
    """SessionOptions for `--host-port`: not given, 5005 or a free port when 5005 is in use; `auto` (0), any free
    port; a number, exactly that port."""
    from autograde.runtime.policy import default_host_port

    if value is None:
        return {"host_port": default_host_port(), "host_port_strict": False}
    return {"host_port": value or None, "host_port_strict": bool(value)}


class Interrupted:
    """SIGTERM behaves like Ctrl-C while grading; during reporting and cleanup both are only noted.

    A SIGINT ignored when the grader started (`nohup`, a background job of a non-interactive shell)
    stays ignored from start to end: only SIGTERM stops such a run. SIGTERM is always handled.
    """

    def __init__(self) -> None:
        self.seen = False
        self.sigint_ignored = signal.getsignal(signal.SIGINT) == signal.SIG_IGN
        signal.signal(signal.SIGTERM, self._raise)

    def _raise(self, signum: int, frame: Any) -> None:
        self.seen = True
        raise KeyboardInterrupt

    def _note(self, signum: int, frame: Any) -> None:
        self.seen = True

    def defer(self) -> None:
        if not self.sigint_ignored:
            signal.signal(signal.SIGINT, self._note)
        signal.signal(signal.SIGTERM, self._note)


def run(args: argparse.Namespace) -> int:
    started = time.time()
    root = Path(args.dir)
    if not root.is_dir():
        raise UserError(f"{args.dir} is not a directory")
    try:
        rubric = rubric_in_effect(args.rubric, os.environ)
    except RubricError as e:
        raise UserError(str(e)) from None
    for option, target in (("--json", args.json), ("--junit", args.junit)):
        if target and not Path(target).resolve().parent.is_dir():
            raise UserError(f"{option} {target}: the folder {Path(target).resolve().parent} does not exist")
    interrupted = Interrupted()
    timings: dict[str, float] = {}
    session = None
    facts = None
    from autograde.report import progress

    shown = progress.reporter(sys.stderr)  # phases as they happen; the table on stdout stays as it was
    warmup = None
    parsed: list[float] | None = None  # when the files were read, beside the engine's warm-up
    try:
        if args.static_only:
            t = time.perf_counter()
            sub = load_submission(root)
            timings["parse"] = time.perf_counter() - t
        else:
            # the files are read (Compose is asked about them) while the runtime's modules load, and the engine is
            # made ready meanwhile
            parsing = _parse_beside(root)
            from autograde.runtime.session import Warmup

            warmup = Warmup(root, _session_options(args), args.project).start()
            sub, parsed = parsing.result()
            timings["parse"] = parsed[1] - parsed[0]
        t = time.perf_counter()
        static = grade_checks(Context(sub, rubric, None), phase="static")
        timings["static"] = time.perf_counter() - t
        shown.timed("static", timings["parse"] + timings["static"])
        shown.static(static)
        if not args.static_only:
            from autograde.runtime.session import Session

            session = Session(sub, _session_options(args), progress=shown.phase, warmup=warmup)
            if parsed is not None:
                session.phases.spans["parse"] = parsed
            facts = session.run()
            if interrupted.seen or facts.interrupted:  # the session swallows Ctrl-C to stop its children
                facts.interrupted = interrupted.seen = True
    except KeyboardInterrupt:
        interrupted.seen = True
        if session is None and warmup is not None:  # interrupted while parsing: the warm-up ends, its lock is let go
            warmup.close()
        if session is not None:
            facts = session.facts
            facts.interrupted = True
    finally:
        shown.close()
    if session is not None and not isinstance(shown, progress.Plain):
        session.progress = None  # the live display is closed before the table; plain lines go on (cleanup)
    interrupted.defer()
    reports_written = False
    try:
        if "static" not in timings:  # interrupted while parsing: nothing graded
            print("autograde: interrupted before grading", file=sys.stderr)
            return EXIT_ERROR
        runtime = grade_checks(Context(sub, rubric, facts), phase="runtime")
        if facts is not None and _evidence_stands(facts):
            # static rows about an outcome are decided from the built image when there is one
            static = grade_checks(Context(sub, rubric, facts), phase="static")
        by_id = {c.id: c for c in static + runtime}
        if session is not None:
            timings.update(session.timings)
        results = GradingResults(
            checks=[by_id[item.id] for item in rubric.items],
            static_only=args.static_only,
            timings=timings,
            source=_source(root),
            grader={
                "version": __version__,
                "lab": {"id": labs.current().id, "title": labs.current().title},
                "started_at": _iso(started),
                "rubric": rubric.source,
                "rubric_fingerprint": rubric.fingerprint(),
                "thresholds": dict(rubric.thresholds),
                "points": {i.id: i.points for i in rubric.items},
                "bonus": [i.id for i in rubric.items if i.bonus],
            },
            error=_error(facts),
            rubric=rubric.to_dict(),
            disagreements=evidence_disagreements(Context(sub, rubric, facts)),
        )
        # the images as the student's files name them, built or not (the reports show these, not the tags)
        results.grader["image_names"] = {key: _image_name(sub, key) for key in ("dev", "prod")}
        # who read each compose file: Docker Compose (`config`), or the grader's YAML reading where there is none
        results.grader["compose_model"] = {cf.name: cf.decided_by for cf in (sub.prod, sub.dev) if cf is not None}
        if facts is not None:
            for key, build in (("dev", facts.dev_build), ("prod", facts.prod_build)):
                if build is not None and build.ok and build.image_id and build.size_bytes is not None:
                    name = _image_name(sub, key)
                    setattr(
                        results, f"{key}_image", ImageFacts(build.image_id, build.tag or "", build.size_bytes, name)
                    )
        if session is not None:
            results.grader["project"] = session.project  # the compose project label of everything it started
            results.grader["phases"] = _spans(session.phases.spans, started)
            cg = session.machine.cgroups
            results.grader["machine"] = {
                "fit": not session.facts.machine_unfit,
                "problem": session.facts.machine_unfit,
                "cgroups": cg.parent if cg is not None else "",
                "suspect": _suspect(session.facts),
                "free_disk_bytes": session.facts.free_disk_bytes,
                "notes": list(session.facts.machine_notes),
            }
            for line in session.facts.machine_notes:
                print(f"autograde: grading machine: {line}", file=sys.stderr)
            if session.facts.host_port is not None:
                results.grader["host_port"] = session.facts.host_port
            if session.facts.host_port_note:
                results.grader["host_port_note"] = session.facts.host_port_note
                print(f"autograde: {session.facts.host_port_note}", file=sys.stderr)
            if session.facts.removed_leftovers:
                results.grader["removed_leftovers"] = list(session.facts.removed_leftovers)
                for line in session.facts.removed_leftovers:
                    print(
                        f"autograde: removed what an abandoned grading run left on the engine: {line}", file=sys.stderr
                    )
        if args.classroom:  # only the Classroom reporter reads the workflow's runner list
            _check_workflow(root, rubric, results)
        results.advice = _advice(root) if sub.dockerfile is not None else []  # only a file read safely
        from autograde.integrity import modified

        results.modified_files = modified(root)
        results.grader["duration_s"] = round(time.time() - started, 3)
        if session is not None:
            session.phases.phase("report", "start")
        report_started = time.monotonic()
        reports_written = _report(results, args)
        if session is not None:
            session.phases.time("report", time.monotonic() - report_started)
    finally:
        if session is not None:
            problems = session.cleanup()
            for p in problems:
                print(f"autograde: could not remove {p}", file=sys.stderr)
    if session is not None and args.json and reports_written:  # now with the cleanup's timing
        results.timings.update(session.timings)
        results.grader["phases"] = _spans(session.phases.spans, started)
        results.grader["duration_s"] = round(time.time() - started, 3)
        _write("json_report", args.json, results)
    if args.classroom_notice:
        from autograde.report import classroom

        for notice in classroom.notices(results):
            print(notice)
    if interrupted.seen or results.has_error or not reports_written:
        return EXIT_ERROR
    graded = [c for c in results.checks if not c.bonus and not (args.static_only and c.status == "skip")]
    return EXIT_OK if all(c.status == "pass" for c in graded) else EXIT_POINTS_LOST


def _write(kind: str, path: str, results: GradingResults) -> bool:
    import importlib

    try:
        importlib.import_module(f"autograde.report.{kind}").write(results, path)
    except OSError as e:
        print(f"autograde: cannot write {path}: {e.strerror or e}", file=sys.stderr)
        return False
    return True


def _parse_beside(root: Path) -> Future[tuple[Any, list[float]]]:
    """`load_submission(root)` in a thread of its own: (the submission, when it began and ended), or what it
    raised."""
    done: Future[tuple[Any, list[float]]] = Future()

    def parse() -> None:
        t = time.time()
        try:
            done.set_result((load_submission(root), [t, time.time()]))
        except BaseException as e:  # raised where the result is asked for
            done.set_exception(e)

    threading.Thread(target=parse, name="autograde-parse", daemon=True).start()
    return done


def _report(results: GradingResults, args: argparse.Namespace) -> bool:
    """Write every report asked for; False if one could not be written."""
    from autograde.report import console

    written = True
    if args.json:
        written &= _write("json_report", args.json, results)
    if args.junit:
        written &= _write("junit", args.junit, results)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        import io

        from autograde.report import github

        # the table quotes student text (log tails, HTTP bodies): no line of it may act as a workflow command
        table = io.StringIO()
        console.write(results, table)
        print(github.Fence().wrap(table.getvalue()), file=sys.stdout)
        github.emit(results, sys.stdout, os.environ)
    else:
        console.write(results, sys.stdout)
    if args.classroom and os.environ.get("GITHUB_OUTPUT"):
        from autograde.report import classroom

        try:
            classroom.write_step_outputs(results, os.environ["GITHUB_OUTPUT"])
        except OSError as e:
            print(f"autograde: cannot write the step outputs to $GITHUB_OUTPUT: {e.strerror or e}", file=sys.stderr)
            written = False
    sys.stdout.flush()
    return written


def _check_workflow(root: Path, rubric: Rubric, results: GradingResults) -> None:
    """The workflow's Classroom reporter block must list the runners of the rubric in effect, or the
    dashboard shows another total than the report: say so (a warning, and grader.workflow_mismatch)."""
    from autograde.report.classroom import runners_of
    from autograde.report.rubric_docs import workflow_runners

    workflow = labs.current().workflow

    try:
        text = (root / workflow).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return  # no workflow (a local checkout, grade-all): nothing to agree with
    had = workflow_runners(text)
    if had is None:
        return
    wanted = list(runners_of(rubric.items))
    missing = [r for r in wanted if r not in had]
    extra = [r for r in had if r not in wanted]
    if not missing and not extra:
        return
    results.grader["workflow_mismatch"] = {"missing": missing, "extra": extra}
    parts = []
    if missing:
        parts.append(f"has no reporter line for {', '.join(missing)} (the Classroom dashboard will not count them)")
    if extra:
        parts.append(f"lists {', '.join(extra)}, which the rubric in effect does not grade")
    results.warnings.append(
        f"{workflow} does not match the rubric in effect ({rubric.source}): it "
        + " and ".join(parts)
        + "; the instructor should run `autograde workflow --write` in the template and commit the workflow."
    )


def _image_name(sub: Any, key: str) -> str:
    """The image as the student's Compose file names it: the service's `image:`, else Compose's default
    `<project>-<service>` (the project is the file's `name:`, else the folder's name)."""
    scenario = labs.current().scenario
    compose, service = (sub.prod, scenario.web) if key == "prod" else (sub.dev, scenario.compare_service)
    if compose is None or service is None or service not in compose.services:
        return ""
    image = compose.image(compose.services[service])
    if image:
        return str(image)
    project = compose.data.get("name") if isinstance(compose.data.get("name"), str) else sub.root.resolve().name
    return re.sub(r"[^a-z0-9_-]", "", str(project).lower()) + f"-{service}"


def _suspect(facts: Facts) -> bool:
    """Whether this grade left the machine in doubt, so that the next grade of a batch checks it fully: the
    machine check found something, a build timed out, hit a cap, or left steps running, or the run was cut short."""
    builds = [b for b in (facts.prod_build, facts.dev_build) if b is not None]
    return bool(
        facts.machine_notes
        or facts.machine_unfit
        or facts.interrupted
        or facts.engine_lost
        or any(b.timed_out or b.pids_limit or b.oom_limit or b.still_running for b in builds)
    )


def _spans(spans: dict[str, list[float]], started: float) -> dict[str, list[float]]:
    """When each phase of the run began and ended, in seconds from the start of the grade."""
    return {
        name: [round(a - started, 3), round(b - started, 3)]
        for name, (a, b) in sorted(spans.items(), key=lambda kv: kv[1][0])
    }


def _evidence_stands(facts: Facts) -> bool:
    """The prod image built and the run was not cut short: its evidence may decide static rows. A run
    interrupted or cut off from its engine leaves the rows judged from the files as they were."""
    built = facts.prod_build is not None and facts.prod_build.ok
    return built and not facts.interrupted and not facts.engine_lost


def _error(facts: Facts | None) -> str | None:
    if facts is None:
        return None
    if facts.interrupted:
        return "grading was interrupted; unfinished checks are marked error"
    if facts.machine_unfit:
        return f"{facts.machine_unfit}; unfinished checks are marked error"
    if facts.engine_lost:
        return f"the Docker engine went away mid-run ({facts.engine_lost}); unfinished checks are marked error"
    return facts.error


def _advice(root: Path) -> list[Any]:
    try:
        from autograde import hadolint
    except ImportError:
        return []
    path = root / labs.current().scenario.dockerfile
    return hadolint.advice(path) if path.is_file() else []


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat(timespec="seconds")


def _source(root: Path) -> dict[str, str]:
    env = os.environ
    source = {"graded_at": _iso(time.time())}
    for key, var in (
        ("repository", "GITHUB_REPOSITORY"),
        ("commit", "GITHUB_SHA"),
        ("ref", "GITHUB_REF"),
        ("actor", "GITHUB_ACTOR"),
        ("run_id", "GITHUB_RUN_ID"),
    ):
        if env.get(var):
            source[key] = env[var]
    if "commit" not in source:
        try:
            out = subprocess.run(
                ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5
            )
            if out.returncode == 0:
                source["commit"] = out.stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            pass
    return source
