"""Evidence from what was built: the prod image's virtual environments and the prod build's own log.

Checks whose rubric row is about an outcome (where the runtime packages are, whether the tests
ran and passed) are decided from this when the prod image built, whatever the Dockerfile did to
get there (pip by path or through PATH, `pip --python`, `uv pip`, `virtualenv`, a bind-mounted
requirements file, a here-document). The text model of Dockerfile.prod then only locates the line
and words the hint, and is all there is for `--static-only`.

Nothing here judges: it records what the image holds and what the build log says.
"""

from __future__ import annotations

import importlib.resources
import json
import re
from dataclasses import dataclass, field
from typing import Any

# the image probe (lean_probe.py): what the image's Python imports, and one walk of its files
PROBE_SCRIPT = (importlib.resources.files("autograde.runtime") / "lean_probe.py").read_text(encoding="utf-8")


@dataclass(frozen=True)
class VenvInImage:
    """One virtual environment found in the prod image's file system."""

    path: str
    """Its directory in the image (the one holding pyvenv.cfg), e.g. /opt/venv."""
    packages: tuple[str, ...]
    """The distributions installed in its site-packages, by normalized name (flask, redis, ...)."""

    def holds(self, *names: str) -> bool:
        return all(_normalize(n) in self.packages for n in names)


@dataclass(frozen=True)
class ImageConfig:
    """The prod image's configuration, as the engine stores it (what `docker inspect` shows under Config)."""

    entrypoint: tuple[str, ...] = ()
    """ENTRYPOINT (exec form; a shell form is stored as `/bin/sh -c ...`)."""
    cmd: tuple[str, ...] = ()
    """CMD, likewise."""
    path: str = ""
    """The PATH of its environment."""
    exposed: tuple[str, ...] = ()
    """The exposed ports, e.g. `("5000/tcp",)`."""
    workdir: str = ""
    """Its working directory ("" is /)."""


@dataclass(frozen=True)
class FileInImage:
    """A file of the image the checks compare with the student's (main.py)."""

    path: str
    """Its absolute path in the image."""
    sha256: str
    """The SHA-256 of its bytes."""


@dataclass
class ImageEvidence:
    """What the prod image holds, read from its file system by a probe container."""

    venvs: list[VenvInImage] = field(default_factory=list)
    """Every virtual environment in the image, in the order the probe found them."""
    error: str = ""
    """Why the image could not be read ("" when it was): then there is no evidence, not negative evidence."""
    config: ImageConfig | None = None
    """The image's configuration (command, PATH, exposed ports, working directory); None when not read."""
    mains: list[FileInImage] = field(default_factory=list)
    """The files named main.py in the image (outside the Python installation and the venvs), at most 10."""

    def venv(self, path: str) -> VenvInImage | None:
        """The venv at `path` (a trailing slash or `/.` ignored), if the image has one there."""
        want = path.rstrip("/") or "/"
        return next((v for v in self.venvs if v.path == want), None)


@dataclass(frozen=True)
class TestStep:
    """A build step that ran pytest and finished (the build log says DONE or CACHED)."""

    step: str
    """The step as BuildKit names it, e.g. `RUN pip install -r requirements-dev.txt && python -m pytest -q tests/`."""
    stage: str
    """The stage BuildKit names in brackets (`builder` of `[builder 5/5]`); "" when it names none."""
    cached: bool
    """True: BuildKit reused its result (it passed in an earlier build with the same inputs), so no output."""
    summary: str
    """pytest's own summary line (`3 passed in 0.12s`); "" when none was seen (cached, or its output was silenced)."""


@dataclass
class BuildEvidence:
    """What the prod build's plain progress log says about its steps."""

    steps: list[str] = field(default_factory=list)
    """Every step BuildKit named (so every step of a stage the target needs: BuildKit skips the others)."""
    test_steps: list[TestStep] = field(default_factory=list)
    """The finished steps that ran pytest: named so, or printing pytest's summary."""


# `#12 [builder 5/5] RUN ...`, `#12 0.512 3 passed in 0.05s`, `#12 DONE 3.2s` / `#12 CACHED`
_NAMED = re.compile(r"^#(\d+) \[(?P<where>[^\]]*)\] (?P<step>.+)$")
_OUTPUT = re.compile(r"^#(\d+) \d+(?:\.\d+)? (?P<text>.*)$")
_FINISHED = re.compile(r"^#(\d+) (?P<how>DONE|CACHED)\b")
# pytest's summary (`6 passed, 1 warning in 0.31s`): words, digits and commas only, as it goes into messages
_SUMMARY = re.compile(
    r"\b(?:\d+ (?:passed|failed|skipped|errors?|xfailed|xpassed)\b[\w ,]*? in [\d.]+s|no tests ran in [\d.]+s)"
)
_STAGE = re.compile(r"^(?P<stage>\S+) \d+/\d+$")


class BuildLog:
    """Fed a build's `--progress plain` lines one by one (all of them, not a tail), gathers BuildEvidence."""

    def __init__(self) -> None:
        self._names: dict[str, tuple[str, str]] = {}
        self._summary: dict[str, str] = {}
        self.evidence = BuildEvidence()

    def feed(self, line: str) -> None:
        line = line.rstrip()
        named = _NAMED.match(line)
        if named:
            where = _STAGE.match(named.group("where").strip())
            if named.group(1) not in self._names:
                self.evidence.steps.append(named.group("step").strip())
            self._names[named.group(1)] = (named.group("step").strip(), where.group("stage") if where else "")
            return
        output = _OUTPUT.match(line)
        if output:
            summary = _SUMMARY.search(output.group("text"))
            if summary and output.group(1) in self._names:
                self._summary[output.group(1)] = summary.group(0).strip("= ")
            return
        finished = _FINISHED.match(line)
        if finished and finished.group(1) in self._names:
            step, stage = self._names[finished.group(1)]
            said = self._summary.get(finished.group(1), "")
            if said or re.search(r"\bpy\.?test\b", step):
                self.evidence.test_steps.append(TestStep(step, stage, finished.group("how") == "CACHED", said))


def parse_probe(output: str) -> ImageEvidence:
    """The probe's JSON line as ImageEvidence; an error that says what was seen when it is not one."""
    lines = [ln for ln in output.strip().splitlines() if ln.strip()]
    if not lines:
        return ImageEvidence(error="the probe printed nothing")
    try:
        data: Any = json.loads(lines[-1])
        venvs = [
            VenvInImage(str(v["path"]).rstrip("/") or "/", tuple(sorted({_normalize(str(p)) for p in v["packages"]})))
            for v in data["venvs"]
        ]
        mains = [FileInImage(str(m["path"]), str(m["sha256"])) for m in data.get("mains") or []][:10]
    except (ValueError, KeyError, TypeError) as e:
        return ImageEvidence(error=f"the probe's output is not what it prints ({type(e).__name__}): {lines[-1][:120]}")
    return ImageEvidence(venvs, mains=mains)


def image_config(attrs: dict[str, Any]) -> ImageConfig:
    """The parts of an image's `docker inspect` Config the checks judge."""
    config = attrs.get("Config") or {}
    path = next((e[5:] for e in config.get("Env") or [] if isinstance(e, str) and e.startswith("PATH=")), "")
    return ImageConfig(
        tuple(str(w) for w in config.get("Entrypoint") or []),
        tuple(str(w) for w in config.get("Cmd") or []),
        path,
        tuple(sorted(str(p) for p in (config.get("ExposedPorts") or {}))),
        str(config.get("WorkingDir") or ""),
    )


def inspect_image(
    client: Any, tag: str, *, labels: dict[str, str], memory: str, pids: int, cpus: float, timeout: float = 60
) -> ImageEvidence:
    """Run PROBE_SCRIPT in a capped, network-less container of the image, with the `python` on the image's
    PATH (any interpreter reads the file system), and remove the container. Never raises."""
    try:
        image = client.images.get(tag)
        config = image.attrs.get("Config") or {}
        seen = image_config(image.attrs)
        env = [e for e in config.get("Env") or [] if e.startswith("PATH=")]
        container = client.containers.create(
            tag,
            entrypoint=["python"],
            command=["-c", PROBE_SCRIPT],
            network_disabled=True,
            mem_limit=memory,
            memswap_limit=memory,
            pids_limit=pids,
            nano_cpus=int(cpus * 1e9),
            environment=env,
            labels=labels,
            working_dir="/",
            user="0",
        )
        try:
            container.start()
            result = container.wait(timeout=timeout)
            # the image is the student's: read a bounded tail only (the JSON line is the last one)
            out = container.logs(stdout=True, stderr=False, tail=5).decode("utf-8", "replace")[-200_000:]
            err = container.logs(stdout=False, stderr=True, tail=5).decode("utf-8", "replace").strip()[-2000:]
        finally:
            container.remove(force=True, v=True)
    except Exception as e:  # the engine's trouble, or an image without python: no evidence
        return ImageEvidence(error=f"{type(e).__name__}: {str(e)[:200]}")
    if result.get("StatusCode") != 0:
        return ImageEvidence(
            error=f"the probe exited with status {result.get('StatusCode')}: {err[-200:]}", config=seen
        )
    found = parse_probe(out)
    found.config = seen
    return found


def _normalize(name: str) -> str:
    """A distribution name as PEP 503 normalizes it."""
    return re.sub(r"[-_.]+", "-", name).lower()
