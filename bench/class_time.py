"""Grading a class at once against grading each submission alone.

    python bench/class_time.py [--n 30] [--jobs J] [--from DIR | --corpus DIR] [--autograde PATH]

Submissions: the folders of --from DIR (checkouts, copied first), else the cases of the corpus
(tests/corpus/<case>/ with Dockerfile.prod and docker-compose.prod.yml, applied to the lab), else
the solution and the broken variants of tests/variants.py; cycled to N. Then:

  single  each submission graded alone, one after the other: `autograde grade CHECKOUT
          --host-port auto --json F`, wall time of each process (cleanup included), summed
  class   `autograde grade-all DIR --jobs J --reports-dir R`, wall time of the whole process

Cold build cache without `docker builder prune` (other people share this engine and its cache):
before each single grade, that submission's app/requirements.txt gets a fresh `# bench-nonce`
comment line (pip ignores it); before the class run, every submission gets one fresh nonce, the
same for all of them, as a class arrives: identical template files. A nonce changes the checksum
of every COPY of app/ (dev image) and of the requirement files (prod builder), so no layer from
there on can come from an earlier measurement or from anyone else's build; base images stay.

Prints one line per submission (single seconds and score, class seconds and score, same verdict?),
the totals, and as the last line `ratio_class=X.XX same_verdicts=K/N` (ratio = class wall time /
sum of single grades; target on a 2-core machine: <= 0.40 with N/N). Same verdict: every check
has the same status and score in both reports.

Where the class's time goes, in CPU seconds of the class run (Linux): `machine` is every core's busy
time from /proc/stat, `grader` the grader's processes and the docker/compose CLIs they start
(their rusage); with cgroup v1's cpuacct controller also `containers` (the stack, the probes) and
`build_steps` (BuildKit's RUN steps). `cpu_floor` = machine CPU / cores / sum of single grades: the
least ratio_class this much work allows on this many cores, however well it is scheduled.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support import BASE_IMAGES, make_checkout  # noqa: E402
from tests.variants import make_variant  # noqa: E402

# a class is mostly right answers: this mix is cycled to N when no corpus or --from is given
MIX = [
    "solution",
    "solution",
    "single-stage",
    "solution",
    "no-redis-host",
    "solution",
    "failing-build",
    "solution",
    "tampered-dev",
    "starter",
]


def nonce(checkout: Path, value: str) -> None:
    req = checkout / "app" / "requirements.txt"
    if not req.is_file():
        return
    lines = [x for x in req.read_text().splitlines() if not x.startswith("# bench-nonce ")]
    req.write_text("\n".join([*lines, f"# bench-nonce {value}"]) + "\n")


def submissions(args: argparse.Namespace, dest: Path) -> list[Path]:
    out: list[Path] = []
    if args.source:
        sources = sorted(p for p in Path(args.source).iterdir() if p.is_dir() and not p.name.startswith("."))
        for i in range(args.n):
            src = sources[i % len(sources)]
            out.append(Path(shutil.copytree(src, dest / f"lab04-{i:02d}-{src.name}", symlinks=True)))
        return out
    corpus = Path(args.corpus) if args.corpus else ROOT / "tests" / "corpus"
    cases = sorted(p for p in corpus.iterdir() if (p / "Dockerfile.prod").is_file()) if corpus.is_dir() else []
    for i in range(args.n):
        if cases:
            case = cases[i % len(cases)]
            files = {
                name: (case / name).read_text()
                for name in ("Dockerfile.prod", "docker-compose.prod.yml")
                if (case / name).is_file()
            }
            out.append(make_checkout(dest / f"lab04-{i:02d}-{case.name}", solution=False, files=files))
        else:
            name = MIX[i % len(MIX)]
            out.append(make_variant(dest / f"lab04-{i:02d}-{name}", name))
    return out


def verdicts(report: Path) -> dict[str, tuple[str, int]] | None:
    try:
        doc = json.loads(report.read_text())
        return {c["id"]: (c["status"], c["score"]) for c in doc["checks"]}
    except (OSError, ValueError, KeyError):
        return None


def score(report: Path) -> str:
    try:
        doc = json.loads(report.read_text())
        return f"{doc['score']}/{doc['max_score']}"
    except (OSError, ValueError, KeyError):
        return "-"


def busy_seconds() -> float | None:
    """CPU seconds every core has been busy since boot (/proc/stat), or None off Linux."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def cgroup_seconds(name: str) -> float | None:
    """CPU seconds of the engine's cgroup NAME (cgroup v1 cpuacct: docker, docker/buildkit), or None."""
    try:
        return int(Path(f"/sys/fs/cgroup/cpuacct/{name}/cpuacct.usage").read_text()) / 1e9
    except (OSError, ValueError):
        return None


def delta(after: float | None, before: float | None) -> float | None:
    return None if after is None or before is None else after - before


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=30, help="submissions (default 30)")
    parser.add_argument("--jobs", type=int, help="grade-all --jobs (default: grade-all's own default)")
    parser.add_argument("--from", dest="source", metavar="DIR", help="a folder of checkouts to cycle through")
    parser.add_argument("--corpus", metavar="DIR", help="corpus of cases (default: tests/corpus if present)")
    parser.add_argument(
        "--autograde",
        default=str(Path(sys.executable).parent / "autograde"),
        help="the autograde executable (default: next to this interpreter)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the checkouts and reports (folder printed)")
    args = parser.parse_args()
    if not shutil.which(args.autograde) and not Path(args.autograde).is_file():
        parser.error(f"{args.autograde} not found (use the dev venv: .venv/bin/python bench/class_time.py)")
    missing = [
        i for i in BASE_IMAGES if subprocess.run(["docker", "image", "inspect", i], capture_output=True).returncode != 0
    ]
    if missing:
        print(
            f"missing base images {missing}: run scripts/standin-images.sh (this script never pulls)", file=sys.stderr
        )
        return 2

    tmp = Path(tempfile.mkdtemp(prefix="bench-class-"))
    try:
        checkouts = submissions(args, tmp / "class")
        print(
            f"# {len(checkouts)} submissions in {tmp / 'class'}; cpus={os.cpu_count()} "
            f"others_running={len(subprocess.run(['docker', 'ps', '-q'], capture_output=True, text=True).stdout.split())}",
            flush=True,
        )
        single_dir = tmp / "single"
        single_dir.mkdir()
        single: dict[str, float] = {}
        for i, c in enumerate(checkouts, 1):
            nonce(c, secrets.token_hex(8))
            report = single_dir / f"{c.name}.json"
            t = time.perf_counter()
            subprocess.run(
                [args.autograde, "grade", str(c), "--host-port", "auto", "--json", str(report)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            single[c.name] = time.perf_counter() - t
            print(
                f"# single {i}/{len(checkouts)} {c.name}: {single[c.name]:.1f} s {score(report)}",
                file=sys.stderr,
                flush=True,
            )

        value = secrets.token_hex(8)
        for c in checkouts:
            nonce(c, value)
        reports = tmp / "class-reports"
        argv = [
            args.autograde,
            "grade-all",
            str(tmp / "class"),
            "--reports-dir",
            str(reports),
            "-o",
            str(tmp / "grades.csv"),
        ] + (["--jobs", str(args.jobs)] if args.jobs else [])

        cpu0 = (busy_seconds(), cgroup_seconds("docker"), cgroup_seconds("docker/buildkit"))
        own0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        ran = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True)
        class_wall = time.perf_counter() - t
        own1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu1 = (busy_seconds(), cgroup_seconds("docker"), cgroup_seconds("docker/buildkit"))
        machine, docker_cg, build_steps = (delta(a, b) for a, b in zip(cpu1, cpu0, strict=True))
        grader = (own1.ru_utime - own0.ru_utime) + (own1.ru_stime - own0.ru_stime)
        head = next((line for line in ran.stderr.splitlines() if " at once " in line), "")
        print(f"# {head}", flush=True)
        if ran.returncode not in (0, 1):
            print(ran.stderr[-3000:], file=sys.stderr)

        same = 0
        print(f"{'submission':<28} {'single_s':>9} {'single':>8} {'class_s':>8} {'class':>8} {'same':>5}")
        for c in checkouts:
            meta_path = reports / ".grade-all" / f"{c.name}.json"
            meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
            a, b = verdicts(single_dir / f"{c.name}.json"), verdicts(reports / f"{c.name}.json")
            ok = a is not None and a == b
            same += ok
            print(
                f"{c.name:<28} {single[c.name]:>9.1f} {score(single_dir / f'{c.name}.json'):>8} "
                f"{float(meta.get('seconds') or 0):>8.1f} {score(reports / f'{c.name}.json'):>8} "
                f"{'yes' if ok else 'NO':>5}"
            )
        total = sum(single.values())
        print(f"single_sum={total:.1f} s class_wall={class_wall:.1f} s n={len(checkouts)}")
        if machine is not None:
            parts = [f"machine={machine:.1f}", f"grader={grader:.1f}"]
            if docker_cg is not None and build_steps is not None:
                parts += [f"containers={docker_cg - build_steps:.1f}", f"build_steps={build_steps:.1f}"]
                parts.append(f"engine_and_kernel={machine - grader - docker_cg:.1f}")
            cores = os.cpu_count() or 1
            print(f"class CPU seconds: {' '.join(parts)} (of {class_wall * cores:.1f} on {cores} cores)")
            print(f"cpu_floor={machine / cores / total:.2f} (machine CPU / cores / sum of single grades)")
        print(f"ratio_class={class_wall / total:.2f} same_verdicts={same}/{len(checkouts)}")
        return 0
    finally:
        if args.keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
