"""How fast `autograde grade --static-only` starts and finishes (target: under 0.5 s).

    python bench/static_time.py [--runs 10] [--autograde PATH]

Times `autograde grade CHECKOUT --static-only` as a whole process (a checkout of the lab
with the solution files applied) RUNS times and prints the median and the minimum, next to
a bare `python -c pass` for scale. Then runs it once under `python -X importtime` and prints
the ten imports with the largest cumulative time, and whether `docker`, `requests`,
`urllib3` or `junitparser` were imported at all. It asserts nothing: it reports.
No Docker engine is needed.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support import make_checkout  # noqa: E402

WATCHED = ("docker", "requests", "urllib3", "junitparser")


def timed(argv: list[str], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        out.append(time.perf_counter() - t)
        if proc.returncode not in (0, 1):
            raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr.decode()[-2000:]}")
    return out


def import_times(python: str, checkout: Path) -> list[tuple[int, int, str]]:
    """(self_us, cumulative_us, name) for every module imported by one static-only grade."""
    proc = subprocess.run(
        [python, "-X", "importtime", "-m", "autograde", "grade", str(checkout), "--static-only"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    rows = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative, name = line[len("import time:") :].split("|", 2)
        rows.append((int(self_us), int(cumulative), name.rstrip()))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--autograde", default=str(Path(sys.executable).parent / "autograde"))
    args = parser.parse_args()
    python = str(Path(args.autograde).parent / "python")
    if not Path(python).exists():
        python = sys.executable

    tmp = Path(tempfile.mkdtemp(prefix="bench-static-"))
    try:
        checkout = make_checkout(tmp / "checkout", solution=True)
        timed([args.autograde, "grade", str(checkout), "--static-only"], 1)  # warm the page cache and .pyc files
        grade = timed([args.autograde, "grade", str(checkout), "--static-only"], args.runs)
        bare = timed([python, "-c", "pass"], args.runs)
        rows = import_times(python, checkout)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(
        f"autograde grade --static-only: median {statistics.median(grade):.3f} s, min {min(grade):.3f} s, "
        f"max {max(grade):.3f} s over {args.runs} runs (target < 0.5 s)"
    )
    print(f"python -c pass (same interpreter): median {statistics.median(bare):.3f} s, min {min(bare):.3f} s")
    print(f"modules imported: {len(rows)}, sum of self import time {sum(r[0] for r in rows) / 1e6:.3f} s")
    print("top 10 imports by cumulative time:")
    for self_us, cum_us, name in sorted(rows, key=lambda r: -r[1])[:10]:
        print(f"  {cum_us / 1000:8.1f} ms  (self {self_us / 1000:6.1f} ms)  {name.strip()}")
    names = {r[2].strip() for r in rows}
    for mod in WATCHED:
        hit = sorted(n for n in names if n == mod or n.startswith(mod + "."))
        print(f"  {mod}: {'IMPORTED (' + ', '.join(hit[:3]) + ')' if hit else 'not imported'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
