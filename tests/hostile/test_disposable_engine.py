"""Hostile builds on a disposable engine: the grading machine survives them, and the next grade is fair.

Fork bombs, memory bombs and disk fills are never run on the machine's own engine: this module
starts a second engine of its own (scripts/disposable-engine.sh: a 6 GB loop-mounted file system,
its own network namespace, a cgroup of 3 GB and 2,000 processes) and removes it at the end. Each
hostile submission is followed by a grade of the correct solution on the same engine, which must
score 100; a `grade-all` batch mixes a fork bomb with correct students, who must all get 100 (or
an error row that the next run regrades to 100). A disk filled to its last block by a grade is
healed by the next one; a disk filled by someone else's build stays the machine's error.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path

import docker
import docker.errors
import pytest

from autograde.runtime import disk
from support import BASE_IMAGES, REPO, make_checkout, solution_files

pytestmark = [pytest.mark.docker, pytest.mark.slow]

NAME = "hx"
SCRIPT = REPO / "scripts" / "disposable-engine.sh"
SOCKET = Path(f"/run/autograde-disposable/{NAME}/docker.sock")
DATA = Path(f"/var/lib/autograde-disposable/{NAME}/mnt")  # the engine's file system, seen from the host
ROOTFS = Path(os.environ.get("ENGINE_HOME", "/var/lib/autograde-engine")) / "rootfs"
FAST = ["--host-port", "auto", "--ready-timeout", "30", "--request-timeout", "3"]
FILL = "dd if=/dev/zero of=/fill bs=1M count=20000"  # 20 GB: more than the engine's 6 GB file system
REQUIRE = os.environ.get("AUTOGRADE_REQUIRE_DOCKER", "") not in ("", "0")


def _unavailable() -> str:
    if os.geteuid() != 0:
        return "needs root (a loop device, a network namespace, cgroups)"
    if not (ROOTFS / "usr/sbin/dockerd").exists():
        return f"no engine root file system at {ROOTFS} (run scripts/docker-engine.sh)"
    if not Path("/sys/fs/cgroup/pids").is_dir():
        return "needs cgroup v1 (the pids controller at /sys/fs/cgroup/pids)"
    if shutil.which("nsenter") is None:
        return "needs nsenter (util-linux)"
    return ""


@pytest.fixture(scope="module")
def engine(docker_engine, tmp_path_factory):
    why = _unavailable()
    if why:
        if REQUIRE:
            pytest.fail(f"the disposable engine cannot run here: {why}", pytrace=False)
        pytest.skip(why)
    started = subprocess.run(["bash", str(SCRIPT), "start", NAME], capture_output=True, text=True, timeout=600)
    assert started.returncode == 0, started.stderr[-3000:]
    locks = tmp_path_factory.mktemp("locks")
    try:
        yield locks
    finally:
        stopped = subprocess.run(["bash", str(SCRIPT), "stop", NAME], capture_output=True, text=True, timeout=300)
        assert stopped.returncode == 0, stopped.stderr[-3000:]


def run(locks: Path, *argv: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "COMPOSE_", "DOCKER_"))}
    env.update(PYTHONPATH=str(REPO), AUTOGRADE_LOCK_DIR=str(locks))
    return subprocess.run(
        ["bash", str(SCRIPT), "run", NAME, sys.executable, "-m", "autograde", *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        stdin=subprocess.DEVNULL,
    )


def grade(locks: Path, co: Path, *extra: str) -> tuple[int, dict, str]:
    report = co.parent / f"{co.name}.json"
    ran = run(locks, "grade", str(co), "--json", str(report), *FAST, *extra)
    doc = json.loads(report.read_text()) if report.exists() else {}
    return ran.returncode, doc, ran.stdout + ran.stderr


def checks(doc: dict) -> dict[str, dict]:
    return {c["id"]: c for c in doc.get("checks", [])}


def hostile(dest: Path, before_cmd: str = "", cmd: str | None = None) -> Path:
    """The solution with lines added to its final stage (the builder stage stays cached) or its CMD replaced."""
    text = solution_files()["Dockerfile.prod"]
    head, sep, tail = text.rpartition("CMD [")
    final_cmd = cmd if cmd is not None else sep + tail.rstrip("\n")
    return make_checkout(dest, files={"Dockerfile.prod": head + before_cmd + final_cmd + "\n"})


def line_of(co: Path, needle: str) -> int:
    lines = (co / "Dockerfile.prod").read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


def assert_full_marks(locks: Path, tmp: Path, name: str, after: str) -> None:
    rc, doc, out = grade(locks, make_checkout(tmp / name))
    bad = {k: (c["status"], c["message"]) for k, c in checks(doc).items() if c["status"] != "pass"}
    assert rc == 0 and doc.get("score") == doc.get("max_score"), f"after {after}: rc={rc} {bad}\n{out[-3000:]}"


def engine_client() -> docker.DockerClient:
    return docker.DockerClient(base_url=f"unix://{SOCKET}", timeout=60)


def engine_docker(*argv: str) -> str:
    env = {**os.environ, "DOCKER_HOST": f"unix://{SOCKET}"}
    ran = subprocess.run(["docker", *argv], capture_output=True, text=True, timeout=600, env=env)
    assert ran.returncode == 0 or "no space left on device" in ran.stderr, ran.stderr[-2000:]
    return ran.stdout


def engine_free() -> int | None:
    """Free bytes of the engine's data root as the engine sees it (through its own root), no container."""
    client = engine_client()
    try:
        return disk.free_bytes(disk.data_root(client))
    finally:
        client.close()


def build_cache(over: int = 0) -> set[str] | None:
    """The ids of the engine's build cache records bigger than `over` bytes; None when the engine cannot list
    them (with no disk left, it can fail to store a size it has just computed)."""
    client = engine_client()
    try:
        for _ in range(3):
            try:
                return {r["ID"] for r in client.api.df()["BuildCache"] or [] if r["Size"] > over}
            except docker.errors.APIError as e:
                assert "no space left on device" in str(e), e
                time.sleep(1)
        return None
    finally:
        client.close()


def untagged_images() -> set[str]:
    client = engine_client()
    try:
        return {
            i["Id"] for i in client.api.images() if not [t for t in i.get("RepoTags") or [] if t != "<none>:<none>"]
        }
    finally:
        client.close()


def host_free(root: bool = False) -> int:
    """Free bytes of the engine's file system seen from the host: for anyone, or for root (the reserve too)."""
    st = os.statvfs(DATA)
    return (st.f_bfree if root else st.f_bavail) * st.f_frsize


def engine_state() -> str:
    """What holds the engine's disk (for a failure's message): free bytes, images, containers, build cache."""
    env = {**os.environ, "DOCKER_HOST": f"unix://{SOCKET}"}
    said = [f"engine free: {engine_free()} bytes"]
    for argv in (["images", "-a"], ["ps", "-a"], ["system", "df", "-v"]):
        ran = subprocess.run(["docker", *argv], capture_output=True, text=True, timeout=120, env=env)
        said.append(f"$ docker {' '.join(argv)}\n{ran.stdout[-3000:]}{ran.stderr[-500:]}")
    # what Docker does not list: the data root's folders by size, and deleted files a process still holds open
    ran = subprocess.run(
        ["du", "-x", "-d", "2", "-t", "100M", "-h", str(DATA)], capture_output=True, text=True, timeout=120
    )
    said.append(f"$ du -x -d 2 -t 100M {DATA}\n{ran.stdout[-3000:]}{ran.stderr[-500:]}")
    said.append("deleted files held open (over 100 MB): " + (", ".join(held_deleted(100 * 1024**2)) or "none"))
    return "\n".join(said)


def held_deleted(over: int) -> list[str]:
    """Deleted files bigger than `over` bytes that some process still holds open (their space is not free yet)."""
    found = []
    for fd in Path("/proc").glob("[0-9]*/fd/*"):
        try:
            target = os.readlink(fd)
            size = fd.stat().st_size if target.endswith(" (deleted)") else 0
            if size > over:
                comm = (fd.parent.parent / "comm").read_text().strip()
                found.append(f"{comm}[{fd.parts[2]}] {target} ({size} bytes)")
        except OSError:
            continue
    return found


def grader_remains() -> list[str]:
    """What of the grader's Docker lists on the engine: containers, images other than the base images, build cache
    over 1 MiB."""
    client = engine_client()
    try:
        found = [f"container {c.name}" for c in client.containers.list(all=True)]
        found += [f"image {i.tags or i.id}" for i in client.images.list() if not set(i.tags) & set(BASE_IMAGES)]
        cache = sum(int(r.get("Size") or 0) for r in client.api.df().get("BuildCache") or [])
        return found + ([f"build cache {cache} bytes"] if cache > 1024**2 else [])
    finally:
        client.close()


def restart_engine() -> None:
    """A new disposable engine of the same name (a new file system, the base images loaded again)."""
    started = subprocess.run(["bash", str(SCRIPT), "start", NAME], capture_output=True, text=True, timeout=600)
    assert started.returncode == 0, started.stderr[-3000:]


def cannot_create() -> str:
    """Why the engine cannot create a tiny container, or "" when it can (and then removes it)."""
    client = engine_client()
    try:
        client.containers.create("redis:alpine", ["true"], network_disabled=True).remove(force=True)
    except docker.errors.APIError as e:
        return str(e)
    finally:
        client.close()
    return ""


def no_running_steps() -> list[str]:
    """Build steps of the disposable engine that still have processes."""
    root = Path(f"/sys/fs/cgroup/pids/autograde-disposable-{NAME}/buildkit")
    found = []
    for step in root.iterdir() if root.is_dir() else []:
        if step.is_dir() and (step / "cgroup.procs").read_text().split():
            found.append(step.name)
    return found


def test_hostile_builds_never_cost_the_next_grade(engine, tmp_path):
    locks = engine
    assert_full_marks(locks, tmp_path, "first", "nothing (a first correct grade)")

    # a fork bomb in a RUN step: capped at --build-pids, stopped at the build timeout, none of it left
    co = hostile(tmp_path / "forkbomb", "RUN f(){ f|f & }; f; sleep 100000\n")
    rc, doc, out = grade(locks, co, "--build-timeout", "45")
    up = checks(doc)["runtime.up"]
    assert up["status"] == "fail", out[-3000:]
    assert f"Dockerfile.prod:{line_of(co, 'f(){')}" in up["message"], up
    # stopped at the timeout while it forks, or failed on its own when its `sleep` could not be forked
    assert re.search(r"did not finish .* the step had \d+ processes running and hit its cap of 512", up["message"]) or (
        "its processes hit the cap of 512 per build step" in up["message"]
    ), up
    assert no_running_steps() == []
    assert_full_marks(locks, tmp_path, "after-forkbomb", "a fork bomb")

    # a memory bomb: killed by the step's memory cap, and told so
    co = hostile(tmp_path / "membomb", 'RUN python -c "x = [bytes([i % 256]) * (50 * 1024**2) for i in range(200)]"\n')
    rc, doc, out = grade(locks, co)
    up = checks(doc)["runtime.up"]
    assert up["status"] == "fail", out[-3000:]
    assert "killed: out of memory (limit 2 GiB" in up["message"], up
    assert f"Dockerfile.prod:{line_of(co, 'bytes([i')}" in up["message"], up
    assert_full_marks(locks, tmp_path, "after-membomb", "a memory bomb")

    # a disk fill to the last block: its layer stays in the build cache, the engine has 0 bytes free and
    # cannot create a container; the next grade reclaims that cache before it starts anything, and says so
    co = hostile(tmp_path / "fill-all", f"RUN {FILL} || true; dd if=/dev/zero of=/fill.last bs=4k || true\n")
    # without the early Redis start: a Redis container created before the fill and removed after it would give
    # the engine (root) back a few blocks, enough for the next container, and the disk would no longer be full
    rc, doc, out = grade(locks, co, "--build-timeout", "300", "--no-early-start")
    assert doc.get("checks"), out[-3000:]
    assert engine_free() == 0 and host_free() == 0
    # the engine cannot create a container: it says "no space left on device", or, when the layer's work folder
    # could not be made, that folder's chown fails ("chown .../overlay2/ID-init/work/work: no such file or directory")
    refused = cannot_create()
    assert "no space left on device" in refused or re.search(r"chown \S+/work/work: no such file", refused), (
        f"the fill left room for a container: {refused!r}"
    )
    rc, doc, out = grade(locks, make_checkout(tmp_path / "after-fill-all"))
    machine = doc["grader"]["machine"]
    (note,) = [n for n in machine["notes"] if "earlier grades left" in n]
    assert note.startswith("the engine had 0 bytes free, under the 1 GiB floor: removed what earlier grades left: ")
    assert re.search(r"\d+ build cache records? \([\d.]+ GiB\)", note), note
    assert f"autograde: grading machine: {note}" in out
    if rc != 0 and engine_free() == 0 and not grader_remains():
        # Seen in some full runs, never alone: every record was pruned and Docker lists nothing of the grader's,
        # yet the engine still holds the space (not released by the engine after the failed export; cause not
        # found). The grade must then be the machine's error, never the student's fail; a new engine goes on.
        assert rc == 2 and not machine["fit"] and doc["error"].startswith("the grading machine is out of disk"), (
            f"rc={rc} machine={machine}\n{out[-3000:]}"
        )
        warnings.warn(f"the heal after a fill could not free the disk: {note}\n{engine_state()}", stacklevel=1)
        restart_engine()
    else:
        assert rc == 0 and doc["score"] == doc["max_score"], (
            f"rc={rc} machine={machine}\n{out[-3000:]}\n{engine_state()}"
        )
        assert re.search(r"; [\d.]+ GiB free now$", note), note
    print(f"\nafter a fill to 0 bytes: {note} (free_disk_bytes {machine['free_disk_bytes']})")

    # a disk filled by a build that is not the grader's: its cache stays, and the grade is the machine's error
    fill_by_hand = tmp_path / "not-graders"
    fill_by_hand.mkdir()
    (fill_by_hand / "Dockerfile").write_text(
        f"FROM python:3.13-slim\nRUN {FILL} || true; dd if=/dev/zero of=/f2 bs=4k || true\n"
    )
    engine_docker("build", "-q", str(fill_by_hand))
    theirs, untagged = build_cache(over=1024**3), untagged_images()
    assert engine_free() == 0 and theirs != set()
    rc, doc, out = grade(locks, make_checkout(tmp_path / "after-not-graders"))
    assert rc == 2 and doc["error"].startswith("the grading machine is out of disk"), (
        rc,
        doc.get("error"),
        out[-3000:],
    )
    # the owner is told what is left and how to remove it (a full disk can keep the engine from listing it)
    assert (
        "; left alone, since no grade of this machine made" in doc["error"]
        and "of build cache (`docker builder prune` removes it)" in doc["error"]
    ) or "the engine could not even list its build cache for lack of space" in doc["error"], doc["error"]
    runtime = [c for c in doc["checks"] if c["id"].startswith(("runtime.", "images."))]
    assert runtime and all(
        c["status"] == "error" and "the grading machine must be repaired" in c["hint"] for c in runtime
    )
    assert not any(c["status"] == "fail" for c in doc["checks"]), doc["checks"]
    # nothing of theirs was removed: their layer still fills the disk, their image and records are there
    assert host_free(root=True) < 1024**3 and untagged <= untagged_images()
    listed = build_cache()
    assert theirs is None or listed is None or theirs <= listed
    print(f"a disk the grader did not fill: {doc['error']}; notes {doc['grader']['machine']['notes']}")
    engine_docker("builder", "prune", "-af")  # what the message tells the machine's owner to do
    engine_docker("image", "prune", "-f")  # (a build that failed while exporting can leave an untagged image)
    assert_full_marks(locks, tmp_path, "after-builder-prune", "the owner pruned the build cache")

    # a disk fill that fails: the step is told No space left on device (or the machine's error), never a hint
    co = hostile(tmp_path / "fill-fail", f"RUN {FILL}\n")
    rc, doc, out = grade(locks, co, "--build-timeout", "300")
    up = checks(doc)["runtime.up"]
    assert (up["status"] == "fail" and "No space left on device" in up["message"]) or up["status"] == "error", up
    assert_full_marks(locks, tmp_path, "after-fill-fail", "a disk fill that failed")

    # a container that fills its writable layer
    co = hostile(
        tmp_path / "fill-run",
        cmd='CMD ["sh", "-c", "dd if=/dev/zero of=/fill bs=1M count=20000; exec python -u main.py"]',
    )
    rc, doc, out = grade(locks, co)
    assert doc.get("checks"), out[-3000:]
    assert_full_marks(locks, tmp_path, "after-fill-run", "a container that filled its writable layer")

    # a silent sleep past the build timeout: the verdict names the step that hung
    co = hostile(tmp_path / "sleep", "RUN sleep 100000\n")
    rc, doc, out = grade(locks, co, "--build-timeout", "30")
    up = checks(doc)["runtime.up"]
    assert up["status"] == "fail" and f"Dockerfile.prod:{line_of(co, 'sleep 100000')}" in up["message"], up
    assert no_running_steps() == []
    assert_full_marks(locks, tmp_path, "after-sleep", "a RUN sleep past the timeout")


def test_a_batch_with_a_fork_bomb_gives_correct_students_full_marks(engine, tmp_path):
    locks = engine
    class_dir = tmp_path / "class"
    hostile(class_dir / "lab04-bomber", "RUN f(){ f|f & }; f; sleep 100000\n")
    for student in ("lab04-alice", "lab04-bob"):
        make_checkout(class_dir / student)
    reports = tmp_path / "reports"
    argv = ["grade-all", str(class_dir), "--reports-dir", str(reports), "-o", str(tmp_path / "grades.csv")]
    argv += ["--jobs", "1", "--build-timeout", "45", "--ready-timeout", "30", "--request-timeout", "3"]
    first = run(locks, *argv)
    scores = _scores(reports)
    errored = [s for s in ("lab04-alice", "lab04-bob") if scores.get(s, (None, None))[1]]
    assert first.returncode != 0 if errored else True, first.stdout[-2000:] + first.stderr[-2000:]
    if errored:  # graded while the machine was unfit: the next run grades them again
        again = run(locks, *argv)
        scores = _scores(reports)
        assert again.returncode in (0, 1), again.stdout[-2000:] + again.stderr[-2000:]
    for student in ("lab04-alice", "lab04-bob"):
        assert scores[student] == (100, None), (student, scores, first.stdout[-3000:], first.stderr[-2000:])
    assert scores["lab04-bomber"][0] is not None and scores["lab04-bomber"][0] < 100
    assert no_running_steps() == []


def _scores(reports: Path) -> dict[str, tuple[int | None, str | None]]:
    out = {}
    for path in reports.glob("*.json"):
        doc = json.loads(path.read_text())
        out[path.stem] = (doc.get("score"), doc.get("error"))
    return out
