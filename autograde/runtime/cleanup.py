"""Removing what a run started: its containers, networks, volumes and images, by its compose project label.

One implementation for the end of a grade, for the teardown of the prod stack once probed, for the
sweep of abandoned runs' remains (see `leftovers`) and for `grade-all`'s sweep of a grade it had to kill.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tenacity import Retrying, stop_after_attempt, wait_fixed

from autograde.runtime import leftovers
from autograde.runtime.cgroups import EngineCgroups
from autograde.runtime.engine import PROJECT_LABEL, gone


def _every(container: Any) -> bool:
    return True


def remove_resources(
    client: Any, project: str, which: Callable[[Any], bool] = _every
) -> tuple[list[str], list[tuple[str, int]]]:
    """Remove a project's containers (those `which` accepts), networks and volumes.

    Returns the problems and how many of each kind were removed.
    """
    label = {"label": f"{PROJECT_LABEL}={project}"}
    problems: list[str] = []
    removed: list[tuple[str, int]] = []
    kinds: tuple[tuple[str, Callable[[], list[Any]], Callable[[Any], Any]], ...] = (
        (
            "container",
            lambda: [c for c in client.containers.list(all=True, filters=label) if which(c)],
            lambda x: x.remove(force=True, v=True),
        ),
        ("network", lambda: client.networks.list(filters=label), lambda x: x.remove()),
        ("volume", lambda: client.volumes.list(filters=label), lambda x: x.remove(force=True)),
    )
    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="autograde-rm") as pool:
        for kind, listing, remove in kinds:
            try:
                for attempt in Retrying(stop=stop_after_attempt(3), wait=wait_fixed(0.3), reraise=True):
                    with attempt:
                        items = listing()
                        list(pool.map(remove, items))  # in parallel: each container's kill takes a moment
                        removed.append((kind, len(items)))
            except Exception as e:
                if not gone(e):
                    problems.append(f"{kind}: {e}")
    return problems, removed


def remove_images(client: Any, project: str, tags: Iterable[str] = ()) -> tuple[list[str], int]:
    """Remove `tags` and every image of the project: labelled with it (Compose labels what it builds) or
    tagged `<project>-…:graded` (the grader's own tags). Returns the problems and how many were removed."""
    problems: list[str] = []
    count = 0

    def remove(ref: str) -> None:
        nonlocal count
        try:
            client.images.remove(ref, force=True)
            count += 1
        except Exception as e:
            if not gone(e):
                problems.append(f"image {ref}: {e}")

    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="autograde-rmi") as pool:
        list(pool.map(remove, tags))
    try:
        for image in client.api.images():  # one call (the SDK's `images.list()` inspects every image too)
            tags = image.get("RepoTags") or []
            if (image.get("Labels") or {}).get(PROJECT_LABEL) == project or any(
                t.startswith(f"{project}-") and t.endswith(":graded") for t in tags
            ):
                remove(str(image["Id"]))
    except Exception as e:
        if not gone(e):
            problems.append(f"image: {e}")
    return problems, count


def remove_project(client: Any, project: str, tags: Iterable[str] = (), images: bool = True) -> list[str]:
    """Remove everything of a project (its images too unless `images` is false); returns the problems."""
    problems, _ = remove_resources(client, project)
    if images:
        problems += remove_images(client, project, tags)[0]
    return problems


def container_ids(client: Any, project: str) -> list[str]:
    try:
        return [str(c["Id"]) for c in client.api.containers(all=True, filters={"label": f"{PROJECT_LABEL}={project}"})]
    except Exception:
        return []


def kill_remains(cgroups: EngineCgroups | None, ids: list[str]) -> list[str]:
    """After the containers were removed: any process still in one of their cgroups is frozen and killed.

    Returns what could not be killed (where the engine's cgroups are visible; else nothing is known)."""
    problems: list[str] = []
    for cid in ids if cgroups is not None else []:
        assert cgroups is not None
        if cgroups.processes(cid, container=True):
            cgroups.kill(cid, container=True)
            left = len(cgroups.processes(cid, container=True))
            if left:
                problems.append(f"{left} processes of container {cid[:12]} could not be killed")
    return problems


def sweep(project: str, tags: Iterable[str] = (), images: bool = True) -> list[str]:
    """`remove_project` with a client of its own: for what a killed grade left."""
    try:
        import docker

        client = docker.from_env(timeout=60)
    except Exception as e:  # no engine: nothing could have been left on it either
        return [f"engine: {e}"]
    try:
        return remove_project(client, project, tags, images)
    finally:
        client.close()


def sweep_abandoned(client: Any, own: str) -> list[str]:
    """Remove what runs of this machine whose grader is gone left on the engine; says what, per run."""
    said: list[str] = []
    try:
        projects = leftovers.projects_on_engine(client)
    except Exception:
        return said
    for project in sorted(projects - {own}):
        if not leftovers.abandoned(project):
            continue
        problems, counts = remove_resources(client, project)
        image_problems, images = remove_images(client, project)
        if problems or image_problems:  # the lock stays: the next grade tries again
            continue
        leftovers.forget(project)
        what = (
            ", ".join(f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in (*counts, ("image", images)) if n)
            or "nothing but its lock"
        )
        said.append(f"{project}: {what}")
    return said
