"""The machine heals before it probes: what grading left is reclaimed, from the engine's own listings, before
any container is created; what is not the grader's stays, and the machine is then still an error.

The engine here is a fake that answers in the Docker API's shapes and refuses what the real one refuses:
a container cannot be created on a full disk ("no space left on device"), the build cache is pruned one
id per call and a layer only once no other record was built on it, a record in use stays, an image a
container uses or that has several tags is not removed without force.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
from pathlib import Path
from typing import Any

import docker.errors
import pytest
import requests

from autograde.runtime import disk, health, leftovers
from autograde.runtime.facts import Facts

GIB = 1024**3
NOW = 1_800_000_000.0
LONG_AGO = 1_700_000_000  # when the base images were built


def stamp(t: float) -> str:
    """An engine time as the API gives it (RFC 3339, nanoseconds, Z)."""
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z"


def api_error(status: int, url: str, explanation: str) -> docker.errors.APIError:
    response = requests.Response()
    response.status_code, response.url = status, f"http+docker://localhost/v1.45{url}"
    response.reason = {400: "Bad Request", 409: "Conflict", 500: "Internal Server Error"}[status]
    return docker.errors.APIError(f"{status} Server Error", response=response, explanation=explanation)


class FakeEngine:
    """One engine's disk, build cache and images; `calls` records what the grader asked, in order."""

    def __init__(self, free: int, records: list[dict[str, Any]], images: list[dict[str, Any]]) -> None:
        self.free = free
        self.records = {r["ID"]: r for r in records}
        self.image_list = {i["Id"]: i for i in images}
        self.used = {i["Id"] for i in images if i.pop("used", False)}  # by a container
        # the disk space is held by layers: a cache record and an image can hold the same one
        self.holders: dict[str, set[str]] = {}
        for held in (*records, *images):
            key = held.pop("layer", "") or held.get("ID") or held["Id"]
            held["_layer"] = key
            self.holders.setdefault(key, set()).add(held.get("ID") or held["Id"])
        self.calls: list[str] = []
        self.df_fails = 0  # how many `system df` calls fail first, as they can on a full disk
        # what creating a container says on a full disk (Engine 26 says one or the other)
        self.create_refusal = "mkdir /var/lib/docker/overlay2/69975e1d8f7c-init: no space left on device"
        self.api = _Api(self)
        self.images = _Images(self)
        self.containers = _Containers(self)
        self.networks = self.volumes = _Nothing()
        self.project = "autograde-000000000000"
        self.client = self

    # the low-level API's calls (client.api.*)
    def df(self) -> dict[str, Any]:
        self.calls.append("df")
        if self.df_fails:
            self.df_fails -= 1
            raise api_error(
                500,
                "/system/df",
                "error getting build cache usage: failed to get usage for qgjiu4g2ukzn2xc45lcs0wx9h: "
                "write /var/lib/docker/buildkit/snapshots.db: no space left on device",
            )
        rows = [
            {k: v for k, v in r.items() if k not in ("parents", "_layer")} | {"Parents": None}
            for r in self.records.values()
        ]
        return {"BuildCache": rows, "Images": [], "Containers": [], "Volumes": []}

    def prune_builds(self, filters: dict[str, list[str]] | None = None, **_: Any) -> dict[str, Any]:
        ids = (filters or {}).get("id") or []
        if len(ids) > 1:
            raise api_error(400, "/build/prune", "filters expect only one value")
        self.calls.append(f"prune {ids[0] if ids else 'all'}")
        built_on = {p for r in self.records.values() for p in r.get("parents", [])}
        gone = [
            r
            for r in self.records.values()
            if (not ids or ids[0] in r["ID"]) and not r["InUse"] and r["ID"] not in built_on
        ]
        for r in gone:
            del self.records[r["ID"]]
            self.release(r["_layer"], r["ID"], r["Size"])
        return {"CachesDeleted": [r["ID"] for r in gone] or None, "SpaceReclaimed": sum(r["Size"] for r in gone)}

    def release(self, layer: str, holder: str, size: int) -> None:
        """The disk is freed when the last holder of a layer goes (the engine reports the size either way)."""
        self.holders[layer].discard(holder)
        if not self.holders[layer]:
            self.free += size

    def images_listing(self) -> list[dict[str, Any]]:
        return [{k: v for k, v in i.items() if k != "_layer"} for i in self.image_list.values()]

    def info(self) -> dict[str, Any]:
        return {"DockerRootDir": "/var/lib/docker", "ID": "a86fcb44-11ff-4583-9c45-9dba81c9eef7"}


class _Nothing:
    def list(self, **_: Any) -> list[Any]:
        return []


class _Images:
    def __init__(self, engine: FakeEngine) -> None:
        self.e = engine

    def list(self, filters: dict[str, Any] | None = None, **_: Any) -> list[Any]:
        key = str((filters or {}).get("label") or "").partition("=")[0]  # only `label=KEY` is asked for
        return [_Image(i) for i in self.e.image_list.values() if not key or key in (i["Labels"] or {})]

    def get(self, ref: str) -> object:
        if not any(ref in i["RepoTags"] or ref == i["Id"] for i in self.e.image_list.values()):
            raise docker.errors.ImageNotFound(f"No such image: {ref}")
        return object()

    def remove(self, ref: str, force: bool = False) -> None:
        assert not force, "the grader never removes an image by force when it reclaims"
        self.e.calls.append(f"rmi {ref}")
        image = next(i for i in self.e.image_list.values() if ref in i["RepoTags"] or ref == i["Id"])
        if ref == image["Id"] and len(image["RepoTags"]) > 1:
            raise api_error(409, f"/images/{ref}", f"conflict: unable to delete {ref[7:19]} (must be forced)")
        if ref != image["Id"] and len(image["RepoTags"]) > 1:
            image["RepoTags"].remove(ref)
            return
        if image["Id"] in self.e.used:
            raise api_error(409, f"/images/{ref}", f"conflict: unable to remove repository reference {ref!r}")
        del self.e.image_list[image["Id"]]
        self.e.release(image["_layer"], image["Id"], image["Size"])


class _Image:
    def __init__(self, attrs: dict[str, Any]) -> None:
        self.attrs, self.id, self.tags, self.labels = attrs, attrs["Id"], list(attrs["RepoTags"]), attrs["Labels"] or {}


class _Containers:
    def __init__(self, engine: FakeEngine) -> None:
        self.e = engine

    def list(self, **_: Any) -> list[Any]:
        return []

    def create(self, ref: str, **_: Any) -> _Container:
        self.e.calls.append(f"create {ref}")
        if self.e.free < 64 * 1024:
            raise api_error(500, "/containers/create", self.e.create_refusal)
        return _Container(self.e)


class _Container:
    id = "8780def709268255060894e98829473801a1cef46b4a6f38ba8352b440856054"

    def __init__(self, engine: FakeEngine) -> None:
        self.e = engine

    def start(self) -> None:
        pass

    def wait(self, timeout: float) -> dict[str, int]:
        return {"StatusCode": 0}

    def logs(self) -> bytes:
        k = self.e.free // 1024
        return f"0::/\n\noverlay 6102624 {6102624 - k} {k} 50% /\n".encode()

    def remove(self, **_: Any) -> None:
        pass


def record(
    rid: str, size: int, created: float, in_use: bool = False, parents: tuple[str, ...] = (), layer: str = ""
) -> dict:
    return {
        "ID": rid,
        "Type": "regular",
        "Description": f"mount / from exec /bin/sh -c {rid}",
        "InUse": in_use,
        "Shared": False,
        "Size": size,
        "CreatedAt": stamp(created),
        "LastUsedAt": stamp(created),
        "UsageCount": 1,
        "parents": list(parents),
        "layer": layer,
    }


def image(
    iid: str, tags: list[str], created: float, size: int = 0, project: str = "", used: bool = False, layer: str = ""
) -> dict:
    labels = {leftovers.PROJECT_LABEL: project, "com.docker.compose.service": "web_prod"} if project else None
    return {
        "Id": f"sha256:{iid * 64}"[:71],
        "RepoTags": tags,
        "Labels": labels,
        "Created": int(created),
        "Size": size,
        "used": used,
        "layer": layer,
    }


BASES = [
    image("a", ["python:3.13"], LONG_AGO, 1_100_000_000),
    image("b", ["python:3.13-slim"], LONG_AGO, 115_000_000),
    image("c", ["redis:alpine"], LONG_AGO, 92_000_000),
]


@pytest.fixture
def machine(tmp_path, monkeypatch):
    """A lock directory with one grader build window (NOW-100 .. NOW), and the engine's disk read from the fake."""
    monkeypatch.setenv("AUTOGRADE_LOCK_DIR", str(tmp_path / "locks"))
    disk.record_build(NOW - 100, NOW - 1)
    state: dict[str, Any] = {"readable": True}

    def make(free: int, records: list[dict], images: list[dict], readable: bool = True) -> FakeEngine:
        engine = FakeEngine(free, records, [dict(i, RepoTags=list(i["RepoTags"])) for i in (*BASES, *images)])
        state.update(engine=engine, readable=readable)
        return engine

    monkeypatch.setattr(disk, "data_root", lambda client: Path("/var/lib/docker") if state["readable"] else None)
    monkeypatch.setattr(disk, "free_bytes", lambda root: state["engine"].free if root is not None else None)
    monkeypatch.setattr(disk.time, "sleep", lambda s: None)
    monkeypatch.setattr(disk, "LIST_RETRY_S", 0)
    return make


class _Api:
    def __init__(self, engine: FakeEngine) -> None:
        self.e = engine

    def df(self) -> dict[str, Any]:
        return self.e.df()

    def prune_builds(self, **kw: Any) -> dict[str, Any]:
        return self.e.prune_builds(**kw)

    def images(self, all: bool = False) -> list[dict[str, Any]]:
        return self.e.images_listing()


def first(calls: list[str], prefix: str) -> int:
    return next((i for i, c in enumerate(calls) if c.startswith(prefix)), len(calls))


def test_a_full_disk_is_reclaimed_before_any_container_is_created(machine):
    fill = record("fillrecord0000000000000001", 4_812_943_360, NOW - 10, parents=("solutionlayer000000000001",))
    engine = machine(
        0,
        [
            fill,
            record("solutionlayer000000000001", 40_000_000, NOW - 50),
            record("buildingnow00000000000001", 10_000_000, NOW - 20, in_use=True),
            record("someoneelses0000000000001", 2 * GIB, NOW - 5000),
        ],
        [
            image("d", [], NOW - 30, 5_000_000),  # dangling, made while a grader build ran
            image("e", [], NOW - 5000, 7_000_000),  # dangling, someone else's
        ],
    )
    found = health.check(engine, GIB, ["redis:alpine"])  # type: ignore[arg-type]
    assert found.fit, found.problem
    calls = engine.calls
    assert first(calls, "create") > max(i for i, c in enumerate(calls) if c.startswith(("prune", "rmi")))
    # the fill's layer, the biggest, was enough: the layers later grades reuse stay, and so do others' and one in use
    assert set(engine.records) == {
        "solutionlayer000000000001",
        "buildingnow00000000000001",
        "someoneelses0000000000001",
    }
    assert f"sha256:{'d' * 64}" not in engine.image_list and f"sha256:{'e' * 64}" in engine.image_list
    assert all(b["Id"] in engine.image_list for b in BASES)
    assert found.free_bytes == engine.free > GIB
    (note,) = found.notes
    assert note.startswith("the engine had 0 bytes free, under the 1 GiB floor: removed what earlier grades left: ")
    assert note.endswith("1 dangling image, 1 build cache record (4.5 GiB); 4.5 GiB free now")


@pytest.mark.parametrize(
    "refusal",
    [
        "mkdir /var/lib/docker/overlay2/69975e1d8f7c-init: no space left on device",
        # the kernel mounted the new layer without its work folder, for lack of space
        "chown /var/lib/docker/overlay2/1c5d0acc30f6-init/work/work: no such file or directory",
    ],
)
def test_when_the_disk_cannot_be_read_a_create_that_fails_for_space_heals_first(machine, refusal):
    engine = machine(0, [record("fillrecord0000000000000001", 3 * GIB, NOW - 10)], [], readable=False)
    engine.create_refusal = refusal
    found = health.check(engine, GIB, ["redis:alpine"])  # type: ignore[arg-type]
    assert found.fit and found.free_bytes == 3 * GIB
    assert engine.calls[0] == "create redis:alpine" and "prune fillrecord0000000000000001" in engine.calls
    assert found.notes[0].startswith("a container could not be created for lack of disk space: removed ")
    assert found.notes[0].endswith("1 build cache record (3 GiB); 3 GiB free now")


def test_a_disk_filled_by_someone_else_stays_the_machines_error_and_says_what_is_left(machine):
    engine = machine(0, [record("someoneelses0000000000001", 5 * GIB, NOW - 5000)], [image("e", [], NOW - 5000)])
    facts = Facts()
    fit = health.Machine(engine, facts, GIB, ["redis:alpine"]).fit_to_grade()  # type: ignore[arg-type]
    assert not fit and facts.error_hint == health.MACHINE_HINT
    assert facts.error == facts.machine_unfit
    assert facts.error.startswith("the grading machine is out of disk: the Docker engine has 0 bytes free, less than")
    assert facts.error.endswith(
        "; left alone, since no grade of this machine made them: 5 GiB of build cache (`docker builder prune` "
        "removes it) and 1 untagged image (`docker image prune` removes it)"
    )
    assert not any(c.startswith(("prune", "rmi")) for c in engine.calls), engine.calls
    assert facts.machine_notes == [
        "the engine had 0 bytes free, under the 1 GiB floor: removed what earlier grades left: "
        "nothing that earlier grades left; 0 bytes free now"
    ]


def test_a_failed_exports_dangling_image_goes_first_so_that_pruning_its_layers_record_frees_the_disk(machine):
    """A build that fills the disk and then fails to export its image can leave an untagged image holding the same
    layer as its cache record: the record's prune alone frees nothing (though the engine reports its size)."""
    engine = machine(
        0,
        [
            record("fillrecord0000000000000001", 4_812_943_360, NOW - 10, layer="fill"),
            record("solutionlayer000000000001", 40_000_000, NOW - 50),
        ],
        [image("d", [], NOW - 9, 4_930_000_000, layer="fill")],
    )
    found = health.check(engine, GIB, ["redis:alpine"])  # type: ignore[arg-type]
    assert found.fit and found.free_bytes == 4_812_943_360
    assert set(engine.records) == {"solutionlayer000000000001"}  # the layers later grades reuse stay
    assert found.notes[0].endswith("1 dangling image, 1 build cache record (4.5 GiB); 4.5 GiB free now")


def test_a_build_cache_the_engine_cannot_list_on_a_full_disk_is_listed_again_or_said(machine):
    engine = machine(0, [record("fillrecord0000000000000001", 3 * GIB, NOW - 10)], [])
    engine.df_fails = 2
    found = health.check(engine, GIB, ["redis:alpine"])  # type: ignore[arg-type]
    assert found.fit and engine.calls[:3] == ["df", "df", "df"]
    engine = machine(0, [record("fillrecord0000000000000001", 3 * GIB, NOW - 10)], [])
    engine.df_fails = 99
    found = health.check(engine, GIB, ["redis:alpine"])  # type: ignore[arg-type]
    assert not found.fit and not any(c.startswith("prune") for c in engine.calls)
    assert found.problem.endswith(
        "; the engine could not even list its build cache for lack of space, so none of it was removed "
        "(`docker builder prune` removes it)"
    )


def test_a_container_that_cannot_be_created_after_reclaiming_is_still_the_machines_error(machine):
    engine = machine(0, [record("someoneelses0000000000001", 5 * GIB, NOW - 5000)], [], readable=False)
    found = health.check(engine, GIB, ["redis:alpine"])  # type: ignore[arg-type]
    assert not found.fit
    assert found.problem.startswith("the grading machine is out of disk: a container cannot be created (APIError: 500")
    assert "no space left on device" in found.problem and "docker builder prune" in found.problem
    assert engine.calls[0] == "create redis:alpine" and engine.calls[-1] == "create redis:alpine"
    assert not any(c.startswith(("prune", "rmi")) for c in engine.calls)


def test_images_finished_grades_kept_go_only_when_the_cache_was_not_enough(machine, tmp_path):
    done, alive, elsewhere = "autograde-0123456789ab", "autograde-aaaaaaaaaaaa", "autograde-bbbbbbbbbbbb"
    leftovers.record_finished(done)
    lock = leftovers.RunLock(alive)
    lock.acquire()
    try:
        kept = [
            image("f", [f"{done}-web-prod:graded"], NOW - 40, 900_000_000, project=done),
            image("g", [f"{done}-web-dev:graded"], NOW - 40, 300_000_000, project=done),
            image("h", [f"{alive}-web-prod:graded"], NOW - 40, 900_000_000, project=alive),
            image("i", [f"{elsewhere}-web-prod:graded"], NOW - 40, 900_000_000, project=elsewhere),
            image("j", [f"{done}-redis:graded", "myredis:latest"], NOW - 40, 1_000_000, project=done),
        ]
        cache = [record("fillrecord0000000000000001", 512 * 1024**2, NOW - 10)]
        engine = machine(100 * 1024**2, cache, kept)
        found = health.check(engine, GIB, ["redis:alpine"])  # type: ignore[arg-type]
        assert found.fit, found.problem
        left = {i["Id"][7:8] for i in engine.image_list.values()}
        assert left == {"a", "b", "c", "h", "i", "j"}  # bases, a live run's, another machine's, one with a tag not ours
        assert f"the images finished grades kept ({done}-web-prod:graded, {done}-web-dev:graded)" in found.notes[0]
        assert leftovers.finished() == []  # forgotten once removed
        # with enough room after the cache, kept images stay
        leftovers.record_finished(done)
        cache = [record("fillrecord0000000000000002", 3 * GIB, NOW - 10)]
        engine = machine(0, cache, kept[:2])
        assert health.check(engine, GIB, ["redis:alpine"]).fit  # type: ignore[arg-type]
        assert not any(c.startswith("rmi") for c in engine.calls) and leftovers.finished() == [done]
    finally:
        lock.release()


def test_the_check_after_a_failed_build_measures_and_reclaims_nothing(machine):
    engine = machine(0, [record("fillrecord0000000000000001", 3 * GIB, NOW - 10)], [])
    found = health.check(engine, GIB, ["redis:alpine"], heal=False)  # type: ignore[arg-type]
    assert not found.fit and found.problem.startswith(
        "the grading machine is out of disk: the Docker engine has 0 bytes"
    )
    assert engine.calls == [] and found.notes == []


def test_a_layer_is_pruned_once_what_was_built_on_it_is_gone():
    engine = FakeEngine(0, [record("parent", 10, NOW - 20), record("child", 20, NOW - 10, parents=("parent",))], [])
    parent_first = [engine.records["parent"], engine.records["child"]]
    assert disk._prune(engine, parent_first) == (2, 30)
    assert engine.calls == ["prune parent", "prune child", "prune parent"]


def test_only_records_made_while_a_grader_build_ran_and_not_in_use_are_the_graders():
    spans = [(NOW - 100, NOW)]
    records = [
        record("old", 1, NOW - 10),
        record("new", 2, NOW - 5),
        record("busy", 4, NOW - 5, in_use=True),
        record("other", 8, NOW - 500),
    ]
    assert [r["ID"] for r in disk.graders_cache(records, spans)] == ["new", "old"]
    assert disk.others_cache(records, spans) == 8
    assert disk.graders_cache([{**records[0], "CreatedAt": "yesterday"}], spans) == []


def test_dangling_images_are_the_graders_by_their_label_or_by_when_they_were_made():
    spans = [(NOW - 100, NOW)]
    ended, running = "autograde-0123456789ab", "autograde-aaaaaaaaaaaa"
    images = [
        image("1", [], NOW - 50),  # made during a grader build
        image("2", ["<none>:<none>"], NOW - 50),  # older engines list an untagged image so
        image("3", [], NOW - 50, project=running),  # a live run's
        image("4", [], NOW - 5000, project=ended),  # an ended run's
        image("5", [], NOW - 5000),  # someone else's
        image("6", ["mine:latest"], NOW - 50),  # tagged: not dangling
        image("7", [], NOW - 50, project="autograde-1a2b3c4d-dev0"),  # another Compose project's (a shared dev build)
    ]
    chosen = disk.graders_dangling(images, spans, lambda p: p == ended)
    assert [i["Id"][7] for i in chosen] == ["1", "2", "4"]


def test_the_data_root_is_read_only_where_it_is_this_engines(tmp_path, monkeypatch):
    wrong, right = tmp_path / "other", tmp_path / "engine"
    for base, engine_id in ((wrong, "someone-else"), (right, "a86fcb44-11ff-4583-9c45-9dba81c9eef7")):
        (base / "var/lib/docker").mkdir(parents=True)
        (base / "var/lib/docker/engine-id").write_text(engine_id + "\n")
    client = FakeEngine(0, [], [])
    monkeypatch.setattr(disk, "_roots", lambda c: iter([str(wrong), str(right)]))
    assert disk.data_root(client) == right / "var/lib/docker"
    assert disk.free_bytes(right / "var/lib/docker") == os.statvfs(tmp_path).f_bavail * os.statvfs(tmp_path).f_frsize
    monkeypatch.setattr(disk, "_roots", lambda c: iter([str(wrong)]))
    assert disk.data_root(client) is None  # an engine whose data root this process cannot see
    assert disk.free_bytes(None) is None


def test_the_engine_serving_a_socket_is_found_by_its_peer_credentials(tmp_path):
    path = str(tmp_path / "docker.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    accepted = threading.Thread(target=lambda: server.accept()[0].close(), daemon=True)
    accepted.start()
    try:
        assert disk._peer_pid(path) == os.getpid()
    finally:
        accepted.join(5)
        server.close()
    assert disk._peer_pid(str(tmp_path / "none.sock")) is None


def test_the_heal_waits_until_the_engines_removals_show_in_the_free_space(machine, monkeypatch):
    """The engine deletes a pruned layer's files after it answers: on a busy machine the space shows seconds later."""
    engine = machine(0, [record("fillrecord0000000000000001", 4 * GIB, NOW - 10)], [])
    late: list[int] = []

    def lagging(root: Path | None) -> int:  # the freed space shows from the fourth read after the prune on
        if engine.free > 0:
            late.append(engine.free)
        return engine.free if len(late) >= 4 else 0

    monkeypatch.setattr(disk, "free_bytes", lagging)
    found = health.check(engine, GIB, ["redis:alpine"])  # type: ignore[arg-type]
    assert found.fit, found.problem
    assert found.free_bytes == engine.free == 4 * GIB
    assert found.notes[0].endswith("1 build cache record (4 GiB); 4 GiB free now")
    assert "prune fillrecord0000000000000001" in engine.calls and len(late) >= 4


def test_the_heal_stops_waiting_when_nothing_more_shows(machine, monkeypatch):
    engine = machine(0, [record("smallrecord00000000000001", 10_000_000, NOW - 10)], [])
    reads: list[int] = []
    monkeypatch.setattr(disk, "free_bytes", lambda root: reads.append(1) or engine.free)
    found = health.check(engine, GIB, ["redis:alpine"])  # type: ignore[arg-type]
    assert not found.fit and "out of disk" in (found.problem or "")
    assert len(reads) < disk.SETTLE_READS  # gave up once the free space stopped growing
