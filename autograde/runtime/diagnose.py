"""Reading a failed build's output: which instruction failed, how, and whose fault it was.

Pure text processing of BuildKit (`--progress plain`) or classic builder output; the checks
turn these facts into messages and hints.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_BUILDKIT_STEP = re.compile(r"^\s*> \[[^\]]*\] (?P<step>.+?):?\s*$", re.M)
_CLASSIC_STEP = re.compile(r"^Step \d+/\d+ : (?P<step>.+)$", re.M)
_FAILED_SHELL = re.compile(
    r'running \[/bin/sh -c (?P<cmd>.+?)\]: exit code|"/bin/sh -c (?P<cmd2>.+?)" did not complete'
)
_ERROR = re.compile(r"^(?:#\d+ )?(?:ERROR|error|failed to solve|The command).*$", re.M)
_STEP_OUTPUT = re.compile(r"^(?:#\d+ )?\d+\.\d+ ")  # a line a RUN step printed, as BuildKit shows it
_STEP_HEADER = re.compile(r"^\s*(?:#\d+ |> )\[[^\]]*\] ")  # `#5 [builder 3/6] RUN ...`: quotes the Dockerfile
_EXIT = re.compile(r"(?:exit code|returned a non-zero code):? (\d+)")

# The registry could not be reached or refused to serve: nobody's files are at fault.
REGISTRY_TROUBLE = (
    "no such host",
    "i/o timeout",
    "tls handshake timeout",
    "connection refused",
    "connection reset by peer",
    "network is unreachable",
    "toomanyrequests",
    "too many requests",
    "429 ",
    "pull rate limit",
    "server misbehaving",
    "temporary failure in name resolution",
    "503 service unavailable",
    "502 bad gateway",
    "504 gateway",
    "net/http: request canceled",
    "unexpected eof",
)
# The engine (or the grader's connection to it) went away mid-build.
ENGINE_TROUBLE = (
    "failed to receive status",
    "rpc error: code = unavailable",
    "error reading from server: eof",
    "cannot connect to the docker daemon",
    "error during connect",
    "transport is closing",
    "the connection is shut down",
    "docker.sock: connect:",
    "is the docker daemon running",
)
# pip could not reach the package index (it says so before giving up): the machine's network, not the file.
PIP_NETWORK = re.compile(
    r"Retrying \(Retry\(.*(?:NewConnectionError|ProxyError|ConnectTimeoutError|"
    r"ReadTimeoutError|SSLError|NameResolutionError)|Could not fetch URL .*: There was a problem "
    r"confirming the ssl certificate|Failed to establish a new connection"
)

# uv's own client (reqwest): `error: Failed to fetch: https://pypi.org/simple/redis/` then
# `cause: error sending request for url (...)` and e.g. `invalid peer certificate: UnknownIssuer`
UV_NETWORK = re.compile(r"cause: error sending request for url \(https?://")


@dataclass(frozen=True)
class BuildOutput:
    step: str | None  # instruction text the builder quotes as failing
    error: str  # the builder's own error line
    exit_code: int | None
    step_log: str  # the failing step's own last lines
    infrastructure: str  # why this is not the student's fault, or ""


def parse_build_output(output: str, step_lines: int = 15) -> BuildOutput:
    """Facts of a failed build.

    BuildKit builds stages in parallel and also reports the steps it cancelled, so the step is
    taken from the command in the error line first, then from the step marked ERROR.
    """
    errors = _ERROR.findall(output)
    error = errors[-1].strip() if errors else ""
    step: str | None = None
    log_lines: list[str] = []
    failed = re.search(r"^#(\d+) ERROR", output, re.M)
    if failed:
        number = failed.group(1)
        named = re.search(rf"^#{number} \[[^\]]*\] (?P<step>.+)$", output, re.M)
        if named:
            step = named.group("step").strip()
        own = re.compile(rf"^#{number} (?:\d+\.\d+ )?(?P<text>.*)$")
        for line in output.splitlines():
            m = own.match(line)
            if m and not line.startswith(
                (f"#{number} [", f"#{number} ERROR", f"#{number} DONE", f"#{number} CACHED", f"#{number} CANCELED")
            ):
                log_lines.append(m.group("text"))
    ran = _FAILED_SHELL.search(output)
    if ran:
        step = "RUN " + (ran.group("cmd") or ran.group("cmd2"))
    if step is None:
        steps = _BUILDKIT_STEP.findall(output) or _CLASSIC_STEP.findall(output)
        step = steps[-1].rstrip(":").strip() if steps else None
    if not log_lines:  # classic builder, or BuildKit's quoted block `> [stage n/m] STEP:` ... `------`
        block = re.search(r"^\s*> \[[^\]]*\] .+:\n(?P<body>(?:(?!-{6}).*\n?)*)", output, re.M)
        if block:
            log_lines = [re.sub(r"^\d+\.\d+ ", "", line) for line in block.group("body").splitlines()]
        classic = list(
            re.finditer(r"^ ---> Running in \w+\n(?P<body>(?:(?!The command |Step \d+/).*\n?)*)", output, re.M)
        )
        if not log_lines and classic:
            log_lines = classic[-1].group("body").splitlines()
    codes = _EXIT.findall(error) or _EXIT.findall(output)
    exit_code = int(codes[-1]) if codes else None
    return BuildOutput(step, error, exit_code, "\n".join(log_lines[-step_lines:]), infrastructure(step, error, output))


def infrastructure(step: str | None, error: str, output: str) -> str:
    """Why a failed build is the machine's trouble, not the student's; "" when it is the student's.

    Engine and registry trouble is read from the builder's own lines only, never from what a RUN
    step printed (student-controlled: an `echo` must not turn a failure into an error).
    """
    own = "\n".join(
        line for line in output.splitlines() if not _STEP_OUTPUT.match(line) and not _STEP_HEADER.match(line)
    )
    text = _FAILED_SHELL.sub("", error + "\n" + own).lower()
    for needle in ENGINE_TROUBLE:
        if needle in text:
            return f"the connection to the Docker engine was lost during the build ({needle})"
    resolving = (
        (step or "").startswith("load metadata for ")
        or "failed to resolve source metadata" in text
        or "failed to copy" in text
        or "failed to do request" in text
        or "error pulling image" in text
    )
    if resolving and "manifest unknown" not in text and " not found" not in text and "access denied" not in text:
        for needle in REGISTRY_TROUBLE:
            if needle in text:
                return f"the image registry could not be reached or refused to serve ({needle.strip()})"
    if PIP_NETWORK.search(output):
        return "pip could not reach the package index from inside the build (the network, not your file)"
    if UV_NETWORK.search(output):
        return "uv could not reach the package index from inside the build (the network, not your file)"
    return ""


def up_infrastructure(output: str) -> str:
    """Why `docker compose up` failed for the machine's reasons (pulling an image, the engine), or ""."""
    text = output.lower()
    for needle in ENGINE_TROUBLE:
        if needle in text:
            return f"the connection to the Docker engine was lost ({needle})"
    if "manifest unknown" in text or "access denied" in text or " not found" in text:
        return ""
    for needle in REGISTRY_TROUBLE:
        if needle in text:
            return f"an image could not be pulled: the registry could not be reached or refused ({needle.strip()})"
    return ""


class Steps:
    """Which build steps finished (ran to the end, or came from the cache), fed line by line.

    BuildKit's plain output names a step once (`#12 [builder 6/6] RUN ...`) and later marks it
    `#12 DONE 3.2s` or `#12 CACHED`; a step that finished before another one failed did its work.
    """

    _NAMED = re.compile(r"^#(\d+) \[[^\]]*\] (?P<step>.+)$")
    _FINISHED = re.compile(r"^#(\d+) (?:DONE|CACHED)\b")

    def __init__(self) -> None:
        self._names: dict[str, str] = {}
        self.done: list[str] = []

    def feed(self, line: str) -> None:
        named = self._NAMED.match(line)
        if named:
            self._names[named.group(1)] = named.group("step").strip()
            return
        finished = self._FINISHED.match(line)
        if finished and finished.group(1) in self._names:
            self.done.append(self._names[finished.group(1)])


# --- pytest's own words ---------------------------------------------------------------------------

# How a builder prefixes the lines a RUN step printed: BuildKit's plain progress `#12 8.093 `, the
# quoted block after an error `8.093 ` (either may be followed by the step's own text); the classic
# builder prints them bare. Colours, if pytest was forced to print them, are dropped too.
_LINE_PREFIX = re.compile(r"^(?:#\d+ )?(?:\d+\.\d+ )?")
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
_OUTCOME_WORDS = r"failed|passed|skipped|deselected|xfailed|xpassed|warnings?|errors?|rerun"
# pytest's last line: `1 failed, 5 passed in 0.12s` (-q), `==== 1 failed, 5 passed in 0.12s ====` (default,
# -v, -rA), `no tests ran in 0.01s`; with or without the duration's `(0:00:01)`.
_SUMMARY_LINE = re.compile(
    rf"^=*\s*(?P<counts>(?:\d+ (?:{_OUTCOME_WORDS})(?:, )?)+|no tests ran)"
    r"(?: in \d+(?:\.\d+)?s(?: \([\d:]+\))?)?\s*=*$"
)
# A traceback's place, as pytest prints it: `tests/test_main.py:62: AssertionError` (long) or
# `tests/test_main.py:62: in test_hits` (short), and the short summary's `FAILED tests/x.py::test - why`.
_TB_PLACE = re.compile(r"^(?P<path>[\w./-]+\.py):(?P<line>\d+): (?P<what>.+)$")
_FAILED_NODE = re.compile(r"^(?P<kind>FAILED|ERROR) (?P<path>[\w./-]+\.py)(?:::(?P<test>[^\s]+))?(?: - (?P<why>.*))?$")


def step_lines(log: str) -> list[str]:
    """The lines a step printed, without the builder's prefixes and colours."""
    return [_LINE_PREFIX.sub("", _ANSI.sub("", line)).rstrip() for line in log.splitlines()]


def pytest_summary(log: str) -> str | None:
    """pytest's own summary of a run, e.g. `1 failed, 5 passed`, from the last summary line the log has,
    in any shape pytest prints it (-q without `===`, -v, -rA) and any builder's prefixes; None if none."""
    found = None
    for line in step_lines(log):
        m = _SUMMARY_LINE.match(line.strip())
        if m:
            found = m.group("counts").rstrip(", ")
    return found


@dataclass(frozen=True)
class FailedTest:
    path: str  # as pytest names it: relative to its rootdir (usually the working directory of the step)
    test: str  # the test function (node id after `::`), or "" for a file that failed to collect
    line: int | None  # where in that file the failure happened, when a traceback says it
    why: str  # pytest's one-line reason, when it gives one


def pytest_failures(log: str) -> list[FailedTest]:
    """The failed tests pytest names in a log, each with the line of its file that the traceback
    points at (the last place in the test's own file), in the order pytest reports them."""
    lines = step_lines(log)
    nodes: list[tuple[str, str, str]] = []
    for line in lines:
        m = _FAILED_NODE.match(line.strip())
        if m:
            nodes.append((m.group("path"), m.group("test") or "", (m.group("why") or "").strip()))
    places: dict[str, list[tuple[int, str]]] = {}
    for line in lines:
        m = _TB_PLACE.match(line.strip())
        if m:
            places.setdefault(m.group("path"), []).append((int(m.group("line")), m.group("what")))
    out = []
    for path, test, why in dict.fromkeys(nodes):
        seen = places.get(path) or []
        out.append(FailedTest(path, test, seen[-1][0] if seen else None, why or (seen[-1][1] if seen else "")))
    return out


# --- .dockerignore ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ignored:
    path: str  # relative to the build context
    pattern: str  # the .dockerignore line that excludes it, as written
    line: int  # of that pattern in the ignore file


def ignore_patterns(text: str) -> list[tuple[int, str]]:
    """The patterns of a .dockerignore file with their line numbers (comments and blank lines left out)."""
    out = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line and not line.startswith("#"):
            out.append((number, line))
    return out


def ignored_by(patterns: list[tuple[int, str]], path: str) -> Ignored | None:
    """Which pattern of a .dockerignore excludes `path` (relative to the context) from the build, if one
    does: the last pattern that matches decides, as the engine's matcher does (the docker SDK's
    PatternMatcher: a pattern matches the path or one of its parent folders; `!` re-includes)."""
    from docker.utils.build import Pattern

    parts = [p for p in path.split("/") if p not in ("", ".")]
    deciding: tuple[int, str, bool] | None = None
    for number, text in patterns:
        pattern = Pattern(text)
        if not pattern.dirs:
            continue
        hit = pattern.match("/".join(parts)) or any(
            len(pattern.dirs) <= n and pattern.match("/".join(parts[:n])) for n in range(1, len(parts))
        )
        if hit:
            deciding = (number, text, not pattern.exclusion)
    if deciding is None or not deciding[2]:
        return None
    return Ignored("/".join(parts), deciding[1], deciding[0])
