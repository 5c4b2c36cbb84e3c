"""Whether a failed build failed because the engine (or its builder) is too old for the file's syntax.

Pure text processing of the builder's own output and the Dockerfile, no Docker. The grader supports
Docker Engine 23.0 or newer: from 23.0 on, BuildKit is the default builder and its built-in
Dockerfile frontend (1.5 or newer) builds heredocs, `COPY --link`, `COPY --chmod` and
`RUN --mount` with no `# syntax=` line. An older engine, an old built-in frontend, or the classic
builder (`DOCKER_BUILDKIT=0`) refuses some of that syntax; such a build is the machine's failure, an
`error` that says "this engine is too old for <feature>", never the student's `fail`.

What counts as evidence, so that a student's own output cannot pose as the builder:
- the classic builder's "the --mount option requires BuildKit": printed for the step that is
  failing (`Step N/M : RUN --mount ...`) before anything of that step ran;
- a Dockerfile parse error ("unknown flag: link", "unknown instruction: ..." on a line inside a
  heredoc's body): parsing happens before any step runs, and the flag or heredoc must be in the
  Dockerfile at that line;
- the classic builder's "COPY failed: no source files were specified" for a `COPY <<EOF` step;
- the classic builder's own step line `Step N/M : RUN <<EOF`: it runs such a step without its body
  (seen on Docker Engine 26.1), so the image is not what the file describes even if the build passes.

A `# syntax=` directive chooses the frontend: an unknown flag or heredoc under it is the student's
choice of an old frontend, not the engine's age (the classic builder ignores the directive).
"""

from __future__ import annotations

import re

from autograde.model.compose_cli import NEWER_KEYS as NEWER_COMPOSE_KEYS
from autograde.model.compose_cli import TESTED_VERSION as TESTED_COMPOSE
from autograde.model.compose_cli import compose_too_old

__all__ = ["NEWER_COMPOSE_KEYS", "TESTED_COMPOSE", "compose_too_old"]

OLDEST_ENGINE = "Docker Engine 23.0"

_CLASSIC_STEP = re.compile(r"^Step \d+/\d+ : (?P<step>.*)$")
# the classic builder's refusals of the failing step: "the --mount option requires BuildKit. ...",
# and before Docker 17.05 or so, a bare "Unknown flag: from"
_NEEDS_BUILDKIT = re.compile(
    r"^(?:the --(?P<flag>[\w-]+) option requires BuildKit\b|Unknown flag: (?P<bare>[\w-]+)$)", re.I
)
_PARSE_ERROR = re.compile(
    r"dockerfile parse error (?:on )?line (?P<line>\d+): (?:(?P<flag>unknown flag: (?P<name>[\w-]+))|"
    r"(?P<instruction>unknown instruction: (?P<word>\S*)))",
    re.I,
)
# Flags a current stable Dockerfile frontend accepts that older builders refuse as unknown: an unknown
# flag outside this list (a typo such as `--chmode`, a labs-only flag) is the file's mistake.
NEWER_FLAGS = frozenset(
    {"mount", "network", "from", "chown", "chmod", "link", "parents", "checksum", "keep-git-dir", "start-interval"}
)
_DIRECTIVE = re.compile(r"^#\s*(?P<key>[a-z][a-z0-9_-]*)\s*=", re.I)
# BuildKit's heredoc marker: `<<EOF`, `<<-EOF`, `<<"EOF"`, `<<'EOF'` (no space after `<<`)
_HEREDOC = re.compile(r"(?<!<)<<(-?)(?P<q>[\"']?)(?P<word>[A-Za-z_][A-Za-z0-9_]*)(?P=q)")
_STEP_OUTPUT = re.compile(r"^#\d+ \d+\.\d+ ")  # what a RUN step printed, as BuildKit shows it
_RUN_STARTED = re.compile(r"^#\d+ \[[^\]]*\] RUN ")


def _classic(output: str) -> bool:
    return any(_CLASSIC_STEP.match(line) for line in output.splitlines()) or (
        "Error response from daemon: dockerfile parse error" in output
    )


def _pins_frontend(text: str) -> bool:
    """Whether a `# syntax=` parser directive chooses the frontend: directives count only as the
    file's first lines, before any blank line, comment or instruction (BuildKit ignores them after)."""
    for line in text.lstrip("\ufeff").splitlines():
        m = _DIRECTIVE.match(line.strip())
        if not m:
            return False
        if m.group("key").lower() == "syntax":
            return True
    return False


def heredoc_lines(text: str) -> dict[int, str]:
    """Lines (1-based) that are the body or the terminator of a heredoc, with the instruction that opens it."""
    lines = text.splitlines()
    inside: dict[int, str] = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        words = line.split(None, 1)
        keyword = words[0].upper() if words else ""
        if keyword in ("RUN", "COPY", "ADD") and not line.lstrip().startswith("#"):
            markers = [m.group("word") for m in _HEREDOC.finditer(line)]
            j = i + 1
            for word in markers:
                while j < len(lines):
                    inside[j + 1] = keyword
                    done = lines[j].strip() == word
                    j += 1
                    if done:
                        break
            i = j if markers else i + 1
        else:
            i += 1
    return inside


def _flag_on_line(text: str, line: int, flag: str) -> str | None:
    """The instruction on `line` (or the instruction it continues) if it carries `--flag`."""
    lines = text.splitlines()
    if not 1 <= line <= len(lines):
        return None
    start = line - 1
    while start > 0 and lines[start - 1].rstrip().endswith("\\"):
        start -= 1
    end = line - 1
    while end < len(lines) - 1 and lines[end].rstrip().endswith("\\"):
        end += 1
    joined = " ".join(lines[start : end + 1])
    if not re.search(rf"(?:^|\s)--{re.escape(flag)}(?:[=\s]|$)", joined, re.I):
        return None
    words = joined.split(None, 1)
    return words[0].upper() if words else None


def _feature(instruction: str, flag: str) -> str:
    if flag.lower() == "mount" and instruction in ("RUN", ""):
        return "`RUN --mount`"
    return f"`{instruction or 'COPY'} --{flag.lower()}`"


def too_old(output: str, dockerfile: str | None, engine: str = "") -> str:
    """ "this engine is too old for <feature> (...)" when the build output shows that, else "".

    `output` is the build's output (its tail), `dockerfile` the text of the Dockerfile built (None: not
    known; then only the classic builder's own refusal of a failing step counts), `engine` e.g.
    "Docker Engine 20.10.24", named in the message when known.
    """
    own = [line for line in output.splitlines() if not _STEP_OUTPUT.match(line)]
    classic = _classic(output)
    pinned = dockerfile is not None and _pins_frontend(dockerfile)
    which = f" ({engine})" if engine else ""

    # the classic builder refuses BuildKit-only flags of the failing step before running it
    step = ""
    for at, line in enumerate(own):
        m = _CLASSIC_STEP.match(line)
        if m:
            step = m.group("step")
            continue
        if line.startswith(" ---> Running in "):
            step = ""  # the step ran: what follows may be the student's output
            continue
        needs = _NEEDS_BUILDKIT.match(line.strip())
        flag = (needs.group("flag") or needs.group("bare") or "") if needs else ""
        if needs and needs.group("bare") and flag.lower() not in NEWER_FLAGS:
            flag = ""
        # the builder stops at its refusal: a step that runs or fails after it shows the words were printed
        ends = not any(later.startswith((" ---> Running in ", "The command '")) for later in own[at + 1 :])
        if flag and step and ends and re.search(rf"(?:^|\s)--{re.escape(flag)}\b", step, re.I):
            feature = _feature(step.split(None, 1)[0].upper(), flag)
            return (
                f"this engine is too old for {feature}: it builds with the classic builder{which}, not "
                f"BuildKit (DOCKER_BUILDKIT=0, or an engine older than 23.0)"
            )
        if line.strip() == "COPY failed: no source files were specified" and ends and _HEREDOC.search(step):
            return (
                f"this engine is too old for heredocs (`{step.split(None, 1)[0].upper()} <<EOF`): it builds "
                f"with the classic builder{which}, which does not read them"
            )

    # a parse error comes before any step runs: once a RUN started, its output is the student's
    started = any(line.startswith(" ---> Running in ") or _RUN_STARTED.match(line) for line in own)
    if dockerfile is None or (pinned and not classic) or started:
        return ""
    for line in own:
        m = _PARSE_ERROR.search(line)
        if not m:
            continue
        number = int(m.group("line"))
        builder = "classic builder" if classic else "built-in Dockerfile frontend"
        if m.group("flag"):
            if m.group("name").lower() not in NEWER_FLAGS:
                continue
            instruction = _flag_on_line(dockerfile, number, m.group("name"))
            if instruction is not None:
                return (
                    f"this engine is too old for {_feature(instruction, m.group('name'))} (Dockerfile line "
                    f"{number}): its {builder}{which} does not know the flag"
                )
        elif number in (body := heredoc_lines(dockerfile)):
            return (
                f"this engine is too old for heredocs (`{body[number]} <<EOF`, Dockerfile line {number} is inside "
                f"one): its {builder}{which} reads the heredoc's lines as instructions"
            )
    return ""


_CLASSIC_HEREDOC = re.compile(r"^Step \d+/\d+ : (?P<instruction>RUN|COPY|ADD)\b.*" + _HEREDOC.pattern, re.I)


def classic_heredoc(line: str) -> bool:
    """Whether a line of build output is the classic builder starting a heredoc step (`Step 2/9 : RUN <<EOF`)."""
    return _CLASSIC_HEREDOC.match(line) is not None


def skipped_heredoc(line: str, engine: str = "") -> str:
    """The message for a heredoc step the classic builder ran without its body."""
    m = _CLASSIC_HEREDOC.match(line)
    instruction = m.group("instruction").upper() if m else "RUN"
    which = f" ({engine})" if engine else ""
    return (
        f"this engine is too old for heredocs (`{instruction} <<EOF`): it builds with the classic builder{which}, "
        "which runs the step without the heredoc's lines, so the image is not what your file describes"
    )
