"""A model of how mikepenz/action-junit-report turns a JUnit file into the Autograde check.

Ported from the action's source at the commit the workflow pins
(d9f48fc87bc235f7e214acf696ca5abc0a986f16, tag v6.4.2), keeping its names and order:

  src/testParser.ts  resolveFileAndLine   file = testcase@file || failure@file || suite@file,
                                          else the last "."-part of the classname; with a
                                          line: done; else the last ` [^ ]*FILE.*?:N` match in
                                          the failure text, else line 1
                     resolvePath          glob `WORKSPACE/**/FILE.*` outside excludeSources
                                          (default /build/, /__pycache__/), first match
                     parseTestCases       failure/error children -> failed unless <skipped>;
                                          level "failure" for failed, "notice" otherwise;
                                          counts total/skipped/failed/passed
                     createTestCaseAnnotation
                                          message = failure@message || first 2 lines of the
                                          failure text || name; the path is resolved only for
                                          failed cases (fs.existsSync(FILE) relative to the
                                          working directory, then WORKSPACE+FILE, then the
                                          glob); title = check_title_template with
                                          {{FILE_NAME}} {{BREAD_CRUMB}} {{SUITE_NAME}}
                                          {{TEST_NAME}} {{CLASS_NAME}}, else
                                          `${fileName}.${name}` when fileName != name, else name
  src/annotator.ts   annotateTestResult   conclusion "failure" iff failed > 0; output title
                                          "N tests run, P passed, S skipped, F failed.";
                                          output summary = the `summary` input (one line);
                                          notice-level annotations dropped unless
                                          annotate_notice; none sent when check_annotations
                                          is false
  src/utils.ts       retrieve             with one report path, `summary` and
                                          `check_title_template` count only as one line
"""

from __future__ import annotations

import glob
import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Annotation:
    path: str
    line: int
    level: str  # failure | notice
    status: str  # success | failure | skipped
    title: str
    message: str


@dataclass
class CheckRun:
    conclusion: str
    title: str
    summary: str
    total: int
    passed: int
    skipped: int
    failed: int
    annotations: list[Annotation] = field(default_factory=list)  # what the check run is sent
    parsed: list[Annotation] = field(default_factory=list)  # every annotation the parser made


def _int(text: str | None) -> int | None:
    if not text:
        return None
    m = re.match(r"\s*([+-]?\d+)", text)  # JavaScript parseInt
    return int(m.group(1)) if m else None


def resolve_file_and_line(file: str | None, line: str | None, classname: str, output: str) -> tuple[str, int]:
    file_name = file if file else classname.split(".")[-1]
    number = _int(line)
    if file_name and number:
        return file_name, number
    escaped = re.sub(r"[.*+?^${}()|\[\]\\]", lambda m: "\\" + m.group(0), file_name).replace("::", "/", 1)
    matches = re.findall(f" [^ ]*{escaped}.*?:\\d+", output)
    if not matches:
        return file_name, number or 1
    tokens = matches[-1].split(":")
    found = tokens.pop() or "0"
    prefix = tokens.pop() if tokens else ""
    if prefix.endswith(".rs"):
        file_name = prefix.split(" ")[-1]
    return file_name, _int(found) or -1


def resolve_path(workspace: str, file_name: str, exclude: list[str]) -> str:
    name = file_name.removeprefix(workspace) if workspace else file_name
    base = workspace if not workspace or workspace.endswith("/") else workspace + "/"
    normalized = re.sub(r"^\./", "", name)
    for result in sorted(glob.glob(f"{base}**/{normalized}.*", recursive=True)):
        absolute = os.path.abspath(result)
        if not any(v in absolute for v in exclude):
            return os.path.relpath(absolute, os.path.abspath(base or "."))
    return normalized


def _issue_text(el: ET.Element) -> str:
    return (el.text or "").strip()


def parse(
    xml_path: Path,
    workspace: Path,
    *,
    include_passed: bool = False,
    annotate_notice: bool = False,
    check_annotations: bool = True,
    check_title_template: str | None = None,
    summary: str = "",
    exclude: tuple[str, ...] = ("/build/", "/__pycache__/"),
) -> CheckRun:
    """The check run the action would create for `xml_path`, run from `workspace` (GITHUB_WORKSPACE)."""
    root = ET.parse(xml_path).getroot()
    total = skipped = failed = 0
    annotations: list[Annotation] = []
    cwd = os.getcwd()
    os.chdir(workspace)  # the action runs in the workspace: fs.existsSync(FILE) is relative to it
    try:
        pending = [(root, "")]
        while pending:
            suite, crumb = pending.pop(0)
            suite_name = suite.get("name", "")
            for case in suite.findall("testcase"):
                total += 1
                issues = case.findall("failure") + case.findall("error")
                skip = case.find("skipped") is not None or case.get("status") in ("disabled", "ignored")
                is_failed = bool(issues) and not skip
                success = not issues
                level = "notice" if success or skip else "failure"
                skipped += skip
                failed += is_failed
                if level != "failure" and not include_passed:
                    continue
                for issue in issues or [None]:
                    stack = _issue_text(issue) if issue is not None else ""
                    stack_message = "\n".join(stack.split("\n")[:2])
                    message = (
                        (issue.get("message") if issue is not None else None) or stack_message or case.get("name")
                    ).strip()
                    resolve_classname = case.get("classname") or case.get("name")
                    file_name, line = resolve_file_and_line(
                        case.get("file") or (issue.get("file") if issue is not None else None) or suite.get("file"),
                        case.get("line") or (issue.get("line") if issue is not None else None) or suite.get("line"),
                        resolve_classname,
                        stack,
                    )
                    path = file_name
                    if is_failed or (annotate_notice and success):
                        if os.path.exists(file_name):
                            path = file_name
                        elif os.path.exists(f"{workspace}{file_name}"):
                            path = f"{workspace}{file_name}"
                        else:
                            path = resolve_path(str(workspace), file_name, list(exclude))
                    path = path.replace(f"{workspace}/", "")
                    if check_title_template:
                        shown_file = file_name if file_name != case.get("name") else ""
                        class_name = (case.get("classname") or case.get("name")).split(".")[-1]
                        title = (
                            check_title_template.replace("{{FILE_NAME}}", shown_file, 1)
                            .replace("{{BREAD_CRUMB}}", crumb, 1)
                            .replace("{{SUITE_NAME}}", suite_name, 1)
                            .replace("{{TEST_NAME}}", case.get("name"), 1)
                            .replace("{{CLASS_NAME}}", class_name, 1)
                        )
                    elif file_name != case.get("name"):
                        title = f"{file_name}.{case.get('name')}"
                    else:
                        title = case.get("name")
                    if len(issues) > 1:
                        title += f" (failure {issues.index(issue) + 1}/{len(issues)})"
                    annotations.append(
                        Annotation(
                            path,
                            line,
                            level,
                            "skipped" if skip else "success" if success else "failure",
                            title,
                            message,
                        )
                    )
            child_crumb = f"{crumb}{suite_name}/" if suite_name else crumb
            pending += [(child, child_crumb) for child in suite.findall("testsuite")]
    finally:
        os.chdir(cwd)
    passed = total - failed - skipped
    sent = [a for a in annotations if annotate_notice or a.level != "notice"] if check_annotations else []
    lines = [line.strip() for line in summary.split("\n") if line.strip()]
    summary = lines[0] if len(lines) == 1 else ""  # getMultilineInput + retrieve(): one line or nothing
    title = (
        f"{total} tests run, {passed} passed, {skipped} skipped, {failed} failed."
        if total
        else "No test results found!"
    )
    return CheckRun(
        "failure" if failed > 0 else "success", title, summary, total, passed, skipped, failed, sent, annotations
    )
