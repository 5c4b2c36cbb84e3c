"""Policy of grading a class from source (`grade-all`): what a folder is, which dev builds can be
shared, how many grades run at once, what is already done, and the class summary.

Nothing here talks to Docker or starts a process; autograde/instructor/grade_all_runner.py does that.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from autograde import labs
from autograde.instructor.gradebook import Row
from autograde.integrity import known_digests
from autograde.rubric import Rubric

META_DIR = ".grade-all"  # hidden: `export` and the report scanner skip it
MAX_DEV_FILES = 500
GIB = 1024**3
PER_GRADE_MEMORY = 1.5 * GIB  # the web service + Redis + a probe container, 512m caps each, builds on top
MAX_DEFAULT_JOBS = 8


@dataclass
class Entry:
    """One student repository to grade: a folder, and what is known about where it came from."""

    name: str  # the folder name, also the report file name
    path: Path
    repository: str = ""  # owner/name when known (with --org: the listed name, see identity.py), else the folder name
    kind: str = "ok"  # ok | not-a-checkout | no-lab-files | clone-failed | missing | gone (see KIND_FLAG)
    note: str = ""
    commit: str = ""
    pushed_at: str = ""
    flags: list[str] = field(default_factory=list)  # e.g. late
    login: str = ""  # with --org: the student, from the listed name (identity.py); "" elsewhere
    repository_id: int | None = None  # with --org: GitHub's repository id, when the listing gave it


# The gradebook flag of an entry that is not graded, by its kind: a repository deleted or transferred
# out of the organization after the listing named it (`gone`) is an `error` row whose note says so.
KIND_FLAG = {"gone": "error"}


@dataclass
class Meta:
    """What grade-all recorded for one repository, beside its reports (for resume and the gradebook)."""

    name: str
    repository: str
    status: str  # graded | timeout | interrupted | not-a-checkout | no-lab-files | clone-failed | failed
    flags: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    commit: str = ""
    pushed_at: str = ""
    seconds: float = 0.0
    shared_dev: bool = False
    login: str = ""  # the student of the repository, as its identity says (identity.py); "" when unknown
    repository_id: int | None = None  # GitHub's repository id, when known

    @property
    def done(self) -> bool:
        return self.status not in ("interrupted", "failed", "clone-failed")


# --------------------------------------------------------------------------- the folders


def student_files() -> tuple[str, ...]:
    """The files a student of the lab in effect writes or completes."""
    return labs.current().student_files


def lab_markers() -> tuple[str, ...]:
    """Paths that show a folder is a checkout of the lab in effect."""
    scenario = labs.current().scenario
    found = ["app", scenario.stack_file, *([scenario.compare_file] if scenario.compare_file else []), *student_files()]
    return tuple(dict.fromkeys(found))


def classify(path: Path) -> tuple[str, str]:
    """(kind, note) of one folder under DIR."""
    markers = lab_markers()
    present = [m for m in markers if (path / m).exists()]
    is_git = (path / ".git").exists()
    if not present and not is_git:
        return "not-a-checkout", (
            f"{path.name}/ is not a checkout of the lab: no .git and none of {', '.join(markers)}"
        )
    files = student_files()
    if not any((path / f).is_file() for f in files):
        named = " nor ".join(files) if len(files) == 2 else ", ".join(files)
        which = "neither " if len(files) == 2 else "none of "
        return "no-lab-files", f"{path.name}/ has {which}{named}: nothing of the lab to grade"
    return "ok", ""


def discover(root: Path) -> list[Entry]:
    """One entry per folder directly under root (hidden folders and loose files are ignored), by name.

    Raises OSError when root cannot be listed.
    """
    out = []
    for path in sorted(root.resolve().iterdir(), key=lambda p: p.name.lower()):
        if path.name.startswith(".") or not path.is_dir():
            continue
        kind, note = classify(path)
        out.append(Entry(path.name, path, repository=path.name, kind=kind, note=note))
    return out


# --------------------------------------------------------------------------- shared dev image


def dev_digest(root: Path) -> str | None:
    """A digest of everything the compared image (LAB04's dev image) is built from, or None when it must be
    built per student (or the lab compares with none).

    That build reads the compare file (LAB04: docker-compose.yml) and the whole of its context folder (app/).
    Two checkouts with the same digest have byte-identical inputs, so one build serves both. Only a compare
    file byte-identical to the template's (one of its versions) qualifies: the grader built that file's
    service before and knows it asks for nothing unsafe. Symlinks, unreadable or too many files: None (the
    student's own session builds, with its usual safety checks).
    """
    scenario = labs.current().scenario
    if not scenario.compare_file or not scenario.compare_context:
        return None
    name = scenario.compare_file
    compose = root / name
    app = root / scenario.compare_context
    try:
        if compose.is_symlink() or not compose.is_file() or app.is_symlink() or not app.is_dir():
            return None
        compose_bytes = compose.read_bytes()
        if hashlib.sha256(compose_bytes).hexdigest() not in known_digests(name):
            return None
        h = hashlib.sha256(name.encode() + b"\0" + compose_bytes + b"\0")
        count = 0
        for top, dirs, files in os.walk(app, followlinks=False):
            dirs.sort()
            for name in [*sorted(files), *(d for d in dirs if os.path.islink(os.path.join(top, d)))]:
                path = Path(top, name)
                count += 1
                if count > MAX_DEV_FILES or path.is_symlink() or not path.is_file():
                    return None
                rel = path.relative_to(root).as_posix()
                h.update(rel.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
            for d in dirs:  # empty folders are part of the context too
                h.update(Path(top, d).relative_to(root).as_posix().encode() + b"/\0")
        return h.hexdigest()
    except OSError:
        return None


def shared_groups(entries: Iterable[Entry]) -> dict[str, list[Entry]]:
    """Dev digest -> entries, for digests at least two gradable entries share."""
    groups: dict[str, list[Entry]] = {}
    for e in entries:
        if e.kind != "ok":
            continue
        digest = dev_digest(e.path)
        if digest is not None:
            groups.setdefault(digest, []).append(e)
    return {d: g for d, g in groups.items() if len(g) >= 2}


# --------------------------------------------------------------------------- how many at once


def machine() -> tuple[int, int | None]:
    """(usable cores, available memory in bytes or None)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return cores, int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return cores, os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return cores, None


def default_jobs(cores: int, memory: int | None) -> tuple[int, str]:
    """Grades at once: 2 per core, as memory allows (1.5 GiB each), at most 8; (jobs, why)."""
    by_cpu = 2 * max(1, cores)
    by_mem = by_cpu if memory is None else max(1, int(memory // PER_GRADE_MEMORY))
    jobs = max(1, min(by_cpu, by_mem, MAX_DEFAULT_JOBS))
    mem = "unknown memory" if memory is None else f"{memory / GIB:.1f} GiB available / 1.5 GiB = {by_mem}"
    return jobs, f"{jobs} = min(2 x {cores} cores = {by_cpu}, {mem}, {MAX_DEFAULT_JOBS})"


# --------------------------------------------------------------------------- reports and resume


def report_paths(reports: Path, name: str) -> tuple[Path, Path]:
    return reports / f"{name}.json", reports / f"{name}.xml"


def meta_path(reports: Path, name: str) -> Path:
    return reports / META_DIR / f"{name}.json"


def save_meta(reports: Path, meta: Meta) -> None:
    """Write the record atomically. Raises OSError when it cannot be written."""
    path = meta_path(reports, meta.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(meta), indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def load_meta(reports: Path, name: str) -> Meta | None:
    """The record of one repository; None when there is none or it cannot be read (raises nothing)."""
    try:
        data = json.loads(meta_path(reports, name).read_text(encoding="utf-8"))
        known = {k: data[k] for k in Meta.__dataclass_fields__ if k in data}
        return Meta(**known)
    except (OSError, ValueError, TypeError):
        return None


def all_meta(reports: Path) -> list[Meta]:
    """Every readable record in the reports folder, by name (raises nothing)."""
    folder = reports / META_DIR
    if not folder.is_dir():
        return []
    out = [load_meta(reports, p.stem) for p in sorted(folder.glob("*.json"))]
    return [m for m in out if m is not None]


def complete(reports: Path, name: str, commit: str = "") -> bool:
    """True when this repository needs no grading on a resumed run.

    Its record says it is finished (at `commit`, when given), and a graded one also has both
    reports, its JSON report readable and not cut short by an interruption.
    """
    meta = load_meta(reports, name)
    if meta is None or not meta.done or (commit and meta.commit != commit):
        return False
    if meta.status != "graded":
        return True
    json_path, junit_path = report_paths(reports, name)
    if not junit_path.is_file():
        return False
    try:
        doc = json.loads(json_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(doc, dict) and isinstance(doc.get("checks"), list) and "interrupted" not in str(doc.get("error"))


def apply_meta(rows: list[Row], metas: list[Meta], max_score: int) -> list[Row]:
    """Attach grade-all's records to the rows read from the reports; a row for each ungraded one."""
    by_name = {r.name.lower(): r for r in rows}
    out = list(rows)
    for m in metas:
        row = by_name.get(m.name.lower()) or by_name.get(m.repository.rsplit("/", 1)[-1].lower())
        if row is None:
            row = Row(repository=m.repository or m.name, max=max_score)
            out.append(row)
        if m.repository and "/" in m.repository:
            row.repository = m.repository
        row.login = m.login or row.login  # the login the repository's identity gave, not one read from a new name
        row.commit = m.commit or row.commit
        row.pushed_at = m.pushed_at or row.pushed_at
        row.flags.update(m.flags)
        if m.status == "interrupted":
            row.flags.add("interrupted")
            row.notes.append("not graded yet: the batch was interrupted (run the same command again to resume)")
        row.notes.extend(n for n in m.notes if n not in row.notes)
    return out


# --------------------------------------------------------------------------- class summary


@dataclass
class Summary:
    graded: int
    flagged: int
    max_score: int
    scores: list[int]
    bins: list[tuple[str, int]]  # label -> number of repositories
    lost: list[tuple[str, int, int]]  # (check id, repositories that lost points there, points lost in total)
    flags: list[tuple[str, int]]
    incomplete: list[str] = field(default_factory=list)  # rows with no grade yet: "name: why"
    repositories: int = 0  # rows with a repository (students without one not counted)

    def text(self) -> str:
        lines = [f"class summary: {self.graded} graded, {self.flagged} flagged"]
        if self.incomplete:
            lines[0] += f", {len(self.incomplete)} of {self.repositories} incomplete (no grade yet)"
            lines += [f"  incomplete: {item}" for item in self.incomplete[:10]]
            if len(self.incomplete) > 10:
                lines.append(f"  ... and {len(self.incomplete) - 10} more")
        if self.scores:
            mean = statistics.fmean(self.scores)
            lines.append(
                f"score (of {self.max_score}): mean {mean:.1f}, median {statistics.median(self.scores):g}, "
                f"min {min(self.scores)}, max {max(self.scores)}"
            )
            width = max(n for _, n in self.bins) or 1
            for label, n in self.bins:
                lines.append(f"  {label:>7} | {'#' * math.ceil(n * 40 / width) if n else '':<40} {n}")
        if self.lost:
            lines.append("checks most often lost:")
            for cid, n, pts in self.lost[:5]:
                lines.append(f"  {cid:<26} {n:>4} repositories, {pts} points")
        if self.flags:
            lines.append("flags: " + ", ".join(f"{f} {n}" for f, n in self.flags))
        return "\n".join(lines)

    def markdown(self) -> str:
        """For a GitHub job summary: a table, and a Mermaid bar chart of the score distribution."""
        out = ["## Class summary", "", f"{self.graded} repositories graded, {self.flagged} flagged.", ""]
        if self.incomplete:
            out += [
                f"**Incomplete: {len(self.incomplete)} of {self.repositories} rows have no grade yet** "
                "(flagged `error` in the gradebook). Grade them again (in the class workflow: "
                "*Re-run failed jobs*), then merge again.",
                "",
                *(f"- `{item.split(':', 1)[0]}`:{item.split(':', 1)[1]}" for item in self.incomplete[:50]),
                *([f"- ... and {len(self.incomplete) - 50} more"] if len(self.incomplete) > 50 else []),
                "",
            ]
        if self.scores:
            out += [
                f"Score (of {self.max_score}): mean {statistics.fmean(self.scores):.1f}, "
                f"median {statistics.median(self.scores):g}, min {min(self.scores)}, max {max(self.scores)}.",
                "",
                "```mermaid",
                "xychart-beta",
                '    title "Score distribution"',
                "    x-axis [" + ", ".join(f'"{label}"' for label, _ in self.bins) + "]",
                '    y-axis "repositories"',
                "    bar [" + ", ".join(str(n) for _, n in self.bins) + "]",
                "```",
                "",
            ]
        if self.lost:
            out += ["| check most often lost | repositories | points lost |", "|---|---:|---:|"]
            out += [f"| `{cid}` | {n} | {pts} |" for cid, n, pts in self.lost[:10]]
            out.append("")
        if self.flags:
            out += ["| flag | repositories |", "|---|---:|"] + [f"| {f} | {n} |" for f, n in self.flags] + [""]
        return "\n".join(out)


def summarize(rows: list[Row], rubric: Rubric, incomplete: list[str] | None = None) -> Summary:
    """incomplete: rows the gradebook has no grade for yet ("name: why"), said first."""
    top = rubric.possible
    graded = [r for r in rows if r.graded_at]  # rows read from a report
    scores = [r.total for r in graded]
    edges = list(range(0, 100, 10))
    counts = Counter(min(9, int(10 * s / top)) if top and s < top else 10 for s in scores)
    bins = [(f"{e}-{e + 9}%", counts.get(i, 0)) for i, e in enumerate(edges)] + [("100%", counts.get(10, 0))]
    lost: list[tuple[str, int, int]] = []
    for item in rubric.items:
        hit = [item.points - r.points.get(item.id, 0) for r in graded if r.points.get(item.id, 0) < item.points]
        if hit:
            lost.append((item.id, len(hit), sum(hit)))
    lost.sort(key=lambda t: (-t[1], -t[2], t[0]))
    flags = Counter(f for r in rows for f in (r.flags | ({"tampered"} if r.tampered else set())))
    return Summary(
        len(graded),
        sum(1 for r in rows if r.flags or r.tampered),
        top,
        scores,
        bins,
        lost,
        sorted(flags.items(), key=lambda t: (-t[1], t[0])),
        list(incomplete or []),
        sum(1 for r in rows if r.repository),
    )


def phase_profile(reports: Path) -> list[tuple[str, float, float, int]]:
    """Where the class's grading time went: (phase, seconds summed over the grades, mean per grade, grades),
    from the `timings` of every JSON report in `reports`, the whole grade (`duration_s`) first. Unreadable
    reports are left out."""
    sums: dict[str, list[float]] = {}
    for path in sorted(reports.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(data, dict):
            continue
        timings = dict(data.get("timings") or {})
        duration = (data.get("grader") or {}).get("duration_s")
        if isinstance(duration, int | float):
            timings = {"grade (whole)": duration, **timings}
        for phase, seconds in timings.items():
            if isinstance(seconds, int | float) and not isinstance(seconds, bool):
                sums.setdefault(str(phase), []).append(float(seconds))
    return [(phase, sum(v), sum(v) / len(v), len(v)) for phase, v in sums.items()]
