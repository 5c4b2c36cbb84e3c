"""What a student sees on GitHub: annotations, the job summary, and fenced student output.

Everything printed to a step's log is scanned by the Actions runner for workflow commands:
a line that starts (after leading whitespace) with `::cmd ...::data`, or that holds
`##[cmd]` anywhere (actions/runner src/Runner.Common/ActionCommand.cs, TryParseV2 and
TryParse). Text the student controls (build output, container logs, HTTP bodies) must
therefore be printed inside a `Fence`, so that a `RUN echo "::notice title=Autograding
complete::Points 100/100"` in a Dockerfile cannot forge a grade.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from typing import TextIO
from urllib.parse import quote

from autograde import labs
from autograde.report import triage
from autograde.results import CheckResult, GradingResults, megabytes

SIZE_RATIO_DEFAULT = 0.5
LOG_TAIL_MAX_CHARS = 12_000
STATUS_EMOJI = {"pass": "✅", "fail": "❌", "skip": "⏭️", "error": "⚠️"}


def in_actions(env: Mapping[str, str]) -> bool:
    return env.get("GITHUB_ACTIONS") == "true"


# --- workflow command syntax (the toolkit's escaping, @actions/core src/command.ts) ---------


def escape_data(value: object) -> str:
    return str(value).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: object) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: object, **properties: object) -> str:
    """`::name k=v,...::message`, escaped as @actions/core does; empty properties dropped."""
    props = ",".join(f"{k}={escape_property(v)}" for k, v in properties.items() if v not in (None, ""))
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def neutralize(text: str) -> str:
    """Make text that will be printed to a log unable to act as a workflow command.

    For places a Fence cannot cover (another action's console output). `::` becomes `: :`
    wherever it stands (so no line can start with it, whatever the runner takes for a line
    break or whitespace) and `##[` becomes `# #[`.
    """
    text = re.sub(r":(?=:)", ": ", text)
    return text.replace("##[", "# #[")


class Fence:
    """Pauses workflow-command processing around student-controlled text.

    One token per run (secrets.token_hex: unguessable, and longer than 6 characters so the
    runner masks it in the log). The runner honours `::stop-commands::TOKEN` and resumes
    only at a line `::TOKEN::`; a student would have to know TOKEN to end the fence early.
    """

    def __init__(self, token: str | None = None) -> None:
        self.token = token or secrets.token_hex(16)

    @property
    def start(self) -> str:
        return f"::stop-commands::{self.token}"

    @property
    def end(self) -> str:
        return f"::{self.token}::"

    def wrap(self, text: str) -> str:
        # The student's text cannot contain the resume line unless it knows the token;
        # should it (it cannot), drop that line rather than let it end the fence early.
        body = "\n".join(line for line in text.splitlines() if line.strip() != self.end)
        return f"{self.start}\n{body}\n{self.end}" if body else f"{self.start}\n{self.end}"


# --- annotations -----------------------------------------------------------------------------


_MD_CODE = re.compile(r"(`+)\s?(.+?)\s?\1")
_MD_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_MD_STRONG = re.compile(r"(\*\*|__)(.+?)\1")


def plain(text: str) -> str:
    """Text for an annotation, which GitHub shows as plain text: no Markdown syntax, one line."""
    text = _MD_CODE.sub(lambda m: m.group(2), text)
    text = _MD_LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})", text)
    text = _MD_STRONG.sub(lambda m: m.group(2), text)
    return " ".join(text.replace("`", "'").split())


def _title(checks: list[CheckResult], note: str = "") -> str:
    lost = sum(triage.lost(c) for c in checks)
    return f"{', '.join(c.id for c in checks)} — lost {lost} of {sum(c.max_score for c in checks)} points{note}"


def annotation_lines(results: GradingResults) -> list[str]:
    """One annotation per problem, on the line to fix: what was seen, then what to do (plain text).

    Checks that fail at one place for one reason share an annotation; skipped checks that lost points
    are annotated on the line of the check they waited for; a failing test gets one on its own line in
    the student's app/tests/."""
    out: list[str] = []
    for item in triage.what_to_do(results):
        merged: dict[tuple[str, int | None, str, str], list[CheckResult]] = {}
        for c in item.checks:
            if c.file:
                merged.setdefault((c.file, c.line, " ".join(c.message.split()), " ".join(c.hint.split())), []).append(c)
        for (file, line, _, _), group in merged.items():
            head = group[0]
            seen = plain(head.message) or f"{head.name}: {head.status}"
            todo = plain(head.hint) if head.hint else ""
            out.append(_annotation(seen, todo, file, line, _title(group)))
        root = item.checks[0] if item.checks else None
        for reason, group in item.skipped.items():
            if root is None or not root.file:
                continue
            place = triage.where(root)
            todo = f"Fix {place} first" + (f": {plain(root.hint)}" if root.hint else ".")
            out.append(
                _annotation(f"Not graded: {plain(reason)}.", todo, root.file, root.line, _title(group, " (skipped)"))
            )
    places: dict[tuple[str, int | None, str], list[CheckResult]] = {}
    for c in results.checks:
        if triage.lost(c):
            for p in c.places:
                places.setdefault((p.file, p.line, p.message), []).append(c)
    for (file, line, message), group in places.items():
        where = triage.where(group[0])
        todo = "Fix the code or the test; a failing test stops the build" + (f" at {where}." if where else ".")
        out.append(_annotation(plain(message), todo, file, line, f"{', '.join(c.id for c in group)} — failing test"))
    for a in results.advice:
        props = {"file": a.file, "line": a.line or None, "title": f"hadolint {a.code}"}
        out.append(command("warning", plain(f"{a.message} ({a.level}, advice, 0 points)"), **props))
    return out


def _annotation(seen: str, todo: str, file: str, line: int | None, title: str) -> str:
    message = seen + (f"\nWhat to do: {todo}" if todo else "")
    return command("error", message, file=file, line=line, title=title)


# --- job summary ----------------------------------------------------------------------------

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_log(text: str) -> str:
    text = _ANSI.sub("", text).replace("\r\n", "\n")
    text = "\n".join(line.rsplit("\r", 1)[-1] for line in text.split("\n"))  # progress bars
    return _CONTROL.sub("", text)


_CODE_SPAN = re.compile(r"(`+)(?!`)(.+?)(?<!`)\1(?!`)")


def _html_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_LOCAL_URL = re.compile(r"https?://(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\])(?::\d+)?[^\s`<>()|]*")


class Links:
    """`file:line` as links to the file at the graded commit
    ($GITHUB_SERVER_URL/$GITHUB_REPOSITORY/blob/$GITHUB_SHA/FILE#LLINE); plain text when the
    repository or commit is unknown."""

    def __init__(self, results: GradingResults, env: Mapping[str, str] | None = None) -> None:
        env = env or {}
        self.server = (env.get("GITHUB_SERVER_URL") or "https://github.com").rstrip("/")
        self.repo = env.get("GITHUB_REPOSITORY") or results.source.get("repository", "")
        self.sha = env.get("GITHUB_SHA") or results.source.get("commit", "")
        named = {c.file for c in results.checks if c.file} | {p.file for c in results.checks for p in c.places}
        self.files = sorted(named, key=len, reverse=True)

    def url(self, file: str, line: int | None) -> str | None:
        if not (
            self.repo
            and self.sha
            and re.fullmatch(r"[\w.-]+/[\w.-]+", self.repo)
            and re.fullmatch(r"[0-9a-fA-F]{7,64}", self.sha)
        ):
            return None
        return f"{self.server}/{self.repo}/blob/{self.sha}/{quote(file, safe='/')}" + (f"#L{line}" if line else "")

    def link(self, file: str, line: int | None) -> str:
        text = _html_escape(_place(file, line))
        url = self.url(file, line)
        return f"[{text}]({url})" if url else text

    def sub(self, text: str) -> str:
        """Link every `file:line` and `file` of the files the checks name in (already escaped) text."""
        if not self.files:
            return text
        alternatives = "|".join(re.escape(_html_escape(f)) for f in self.files)
        by_text = {_html_escape(f): f for f in self.files}
        pattern = re.compile(rf"(?<![\w/.\[-])({alternatives})(?::(\d+))?(?!\w|[.:]\w|\]\()")
        return pattern.sub(lambda m: self.link(by_text[m.group(1)], int(m.group(2)) if m.group(2) else None), text)


def _place(file: str, line: int | None) -> str:
    return f"{file}:{line}" if line else file


def _cell(text: object, links: Links | None = None) -> str:
    """Inline text for a Markdown table cell or list item: no HTML, no row breaks, no column breaks.

    Code spans are kept as they are: Markdown shows their content literally, entities included,
    so escaping there would print `&amp;&amp;` where a hint says `&&`. Outside them, a local URL
    (the grader's own, on a random port) becomes a code span, not a link a student would try,
    and `file:line` becomes a link to the file when `links` is given."""
    raw, parts, last = str(text), [], 0

    def plain(chunk: str) -> str:
        out, at = [], 0
        for m in _LOCAL_URL.finditer(chunk):
            out += [_html_escape(chunk[at : m.start()]), f"`{m.group(0)}`"]
            at = m.end()
        out.append(_html_escape(chunk[at:]))
        escaped = "".join(out)
        return links.sub(escaped) if links else escaped

    for m in _CODE_SPAN.finditer(raw):
        parts += [plain(raw[last : m.start()]), m.group(0)]
        last = m.end()
    s = "".join(parts) + plain(raw[last:])
    s = s.replace("|", "\\|").replace("\r", "")
    return "<br>".join(part.strip() for part in s.split("\n") if part.strip())


def code_block(text: str, info: str = "text") -> str:
    """A fenced code block that the text cannot close: the fence is longer than any run of
    backticks inside it (CommonMark: a closing fence needs at least as many)."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{text.rstrip()}\n{fence}"


def size_ratio_max(results: GradingResults) -> float:
    grader = results.grader or {}
    for candidate in ((grader.get("thresholds") or {}).get("size_ratio_max"), grader.get("size_ratio_max")):
        if isinstance(candidate, (int, float)) and not isinstance(candidate, bool) and 0 < candidate <= 1:
            return float(candidate)
    return SIZE_RATIO_DEFAULT


def _sizes_section(results: GradingResults) -> list[str]:
    """Sizes and the limit, each rounded once (megabytes) and shown the same in words, table and chart;
    the images named as the student's files name them (the grader's tags are in the JSON report)."""
    dev, prod = results.dev_image, results.prod_image
    if not dev and not prod:
        return []
    limit = size_ratio_max(results)
    pack = labs.of_report(results.grader)
    lines = ["### Image sizes", "", "| Image | Built from | Size |", "|---|---|---:|"]
    for label, image, source in (
        ("dev", dev, pack.hint("compared_image_source", "the compared image")),
        ("prod", prod, pack.hint("image_source", pack.scenario.dockerfile)),
    ):
        named = (results.grader.get("image_names") or {}).get(label)
        default = pack.hint("compared_image_name", "dev") if label == "dev" else pack.scenario.web
        name = (image.name if image else "") or (named if isinstance(named, str) and named else default)
        size = f"{megabytes(image.size_bytes):,.1f} MB" if image else "not built"
        lines.append(f"| `{name.replace('`', '')}` | {source} | {size} |")
    lines.append("")
    ratio = results.ratio
    if ratio is not None and dev and prod:
        dev_mb, prod_mb = megabytes(dev.size_bytes), megabytes(prod.size_bytes)
        cap = megabytes(dev.size_bytes * limit)
        verdict = "✅ within" if ratio <= limit else "❌ over"
        lines.append(
            f"prod / dev = **{ratio:.2f}** ({ratio:.0%}) — {verdict} the limit of {limit:.2f} "
            f"({limit:.0%} of dev = {cap:,.1f} MB)."
        )
        lines.append("")
        top = max(dev_mb, prod_mb, cap, 1.0) * 1.1
        lines += [
            "```mermaid",
            "xychart-beta",
            f'    title "Image size in MB (line: limit = {limit:.2f} x dev = {cap:.1f} MB)"',
            '    x-axis ["dev", "prod"]',
            f'    y-axis "MB" 0 --> {top:.0f}',
            f"    bar [{dev_mb:.1f}, {prod_mb:.1f}]",
            f"    line [{cap:.1f}, {cap:.1f}]",
            "```",
            "",
        ]
    return lines


def _ids(checks: list[CheckResult]) -> str:
    return ", ".join(f"`{c.id}`" for c in checks)


def _fix_first(results: GradingResults, links: Links) -> list[str]:
    fix = triage.fix_first(results)
    if fix is None:
        return []
    c = fix.check
    place = links.link(c.file, c.line) if c.file else f"`{c.id}`"
    command = fix.command.replace("`", "")
    command = command if len(command) <= 100 else command[:99] + "…"
    what = f" — `{command}` failed" if command else ""
    lines = [
        f"**Fix first:** {place}{what}. {_cell(fix.hint, links) if fix.hint else _cell(c.message, links)}",
        "",
        f"{triage.share(fix, results)} depend on it: {_ids(fix.checks)}.",
        "",
    ]
    return lines


def _lower(text: str) -> str:
    return text[:1].lower() + text[1:]


def _lost_list(results: GradingResults, links: Links) -> list[str]:
    """What to do: every check that lost points, each once. The first fix comes first with the same
    figure as at the top; skipped checks are listed under the check they waited for."""
    fix = triage.fix_first(results)
    out: list[str] = []
    for item in triage.what_to_do(results):
        root = item.checks[0] if item.checks else None
        place = f" — {links.link(root.file, root.line)}" if root is not None and root.file else ""
        text = item.hint or (root.message if root is not None else "")
        if root is not None and item.first and fix is not None:
            out.append(
                f"- **Fix first:** {_ids(item.checks)} ({_lower(triage.share(fix, results))} depend on it){place}: "
                f"{_cell(text, links)}"
            )
        elif root is not None:
            points = sum(triage.lost(x) for x in item.checks)
            out.append(
                f"- {_ids(item.checks)} (lost {points} of {sum(x.max_score for x in item.checks)} points){place}: "
                f"{_cell(text, links)}"
            )
        for reason, group in item.skipped.items():
            points = sum(triage.lost(x) for x in group)
            head = f"{_ids(group)} (lost {points} of {sum(x.max_score for x in group)} points)"
            if root is not None:
                where = links.link(root.file, root.line) if root.file else f"`{root.id}`"
                out.append(f"  - {head} — skipped: {_cell(reason)} — fix {where} first")
            else:
                out.append(f"- {head} — skipped: {_cell(reason)}")
    return ["### What to do", "", *out, ""] if out else []


def _result_cell(c: CheckResult, links: Links) -> str:
    message = (c.message or "").strip()
    place = triage.where(c)
    if c.status == "pass" or not c.file:
        return _cell(message, links if c.status != "pass" else None)
    if place and place in message:  # the message names the place already: link it there
        return _cell(message, links)
    return f"{links.link(c.file, c.line)}: {_cell(message, links)}"


def _logs_section(results: GradingResults) -> list[str]:
    lines: list[str] = []
    seen: dict[str, list[CheckResult]] = {}
    for c in results.checks:
        if c.status == "pass" or not c.log_tail.strip():
            continue
        seen.setdefault(c.log_tail, []).append(c)
    for tail, group in seen.items():
        log = clean_log(tail)
        excerpt = triage.log_excerpt(log)
        if len(log) > LOG_TAIL_MAX_CHARS:
            log = "…\n" + log[-LOG_TAIL_MAX_CHARS:]
        lines += [
            f"#### Log of {_ids(group)}",
            "",
            code_block("\n".join(excerpt) or "(empty)"),
            "",
            f"<details><summary>Full log tail of {', '.join(f'<code>{_cell(c.id)}</code>' for c in group)}</summary>",
            "",
            code_block(log),
            "",
            "</details>",
            "",
        ]
    return lines


def _heading(results: GradingResults, links: Links) -> list[str]:
    icon = "✅" if results.full_marks else ("⚠️" if results.has_error else "❌")
    lines = [f"## {icon} Autograde: {results.total} / {results.possible} points", ""]
    if results.error:
        lines += [f"> **Grading error:** {_cell(results.error)}", ""]
    for warning in results.warnings:
        lines += [f"> **Warning (grader set-up):** {_cell(warning)}", ""]
    if results.static_only:
        lines += ["_Static checks only: runtime checks were not run._", ""]
    return lines + _fix_first(results, links)


def feedback(results: GradingResults, env: Mapping[str, str] | None = None) -> list[str]:
    """What the summary page leads with, for a pull request comment: the score, Fix first, What to do."""
    links = Links(results, env)
    return _heading(results, links) + _lost_list(results, links)


def step_summary(results: GradingResults, fence_free: bool = True, env: Mapping[str, str] | None = None) -> str:
    """Markdown for $GITHUB_STEP_SUMMARY.

    fence_free=True: the text goes to the summary file, which the runner never scans for
    workflow commands. With fence_free=False the caller means to print it to a log without
    a Fence, so any workflow-command syntax in it is neutralized. `env` gives the
    GITHUB_SERVER_URL, GITHUB_REPOSITORY and GITHUB_SHA that file:line links point at.
    """
    links = Links(results, env)
    lines = _heading(results, links)
    lines += ["| | Check | Points | Result |", "|---|---|---:|---|"]
    for c in results.checks:
        lines.append(
            f"| {STATUS_EMOJI.get(c.status, '?')} | `{c.id}` {_cell(c.name)} | {c.score}/{c.max_score} "
            f"| {_result_cell(c, links)} |"
        )
    lines.append(f"| | **Total** | **{results.total}/{results.possible}** | |")
    lines.append("")
    lines += _lost_list(results, links)
    lines += _sizes_section(results)
    if results.advice:
        lines += [
            "<details><summary>hadolint advice (0 points)</summary>",
            "",
            "| Line | Rule | Level | Advice |",
            "|---:|---|---|---|",
        ]
        for a in results.advice:
            lines.append(
                f"| {links.link(a.file, a.line) if a.line else a.line} | {_cell(a.code)} | {_cell(a.level)} "
                f"| {_cell(a.message)} |"
            )
        lines += ["", "</details>", ""]
    lines += _logs_section(results)
    text = "\n".join(lines) + "\n"
    return text if fence_free else neutralize(text)


# --- emit -----------------------------------------------------------------------------------


def emit(results: GradingResults, out: TextIO, env: Mapping[str, str]) -> None:
    """In GitHub Actions: annotations to `out`, the summary appended to $GITHUB_STEP_SUMMARY."""
    if not in_actions(env):
        return
    for line in annotation_lines(results):
        print(line, file=out)
    for warning in results.warnings:
        print(command("warning", neutralize(warning), title="Autograde set-up"), file=out)
    path = env.get("GITHUB_STEP_SUMMARY")
    if path:
        try:
            with open(path, "a", encoding="utf-8") as f:
                f.write(step_summary(results, env=env))
        except OSError as e:
            print(command("warning", f"autograde could not write the job summary: {e.strerror or e}"), file=out)
    out.flush()
