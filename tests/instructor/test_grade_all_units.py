"""`grade-all` policy without an engine: folders, shared dev builds, job count, resume, gradebook, summary."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pytest
from instructor_fixtures import MAX, json_report, junit_report, results

from autograde import cli
from autograde.checks import default_rubric
from autograde.instructor import grade_all_policy as cb
from autograde.instructor.grade_all_runner import child_env
from autograde.instructor.gradebook import Row, write_csv
from support import make_checkout

GIB = 1024**3


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


# ------------------------------------------------------------------------------------------ folders


def test_discover_classifies_every_folder_and_ignores_hidden_ones_and_files(tmp_path: Path) -> None:
    make_checkout(tmp_path / "lab04-alice")
    (tmp_path / "lab04-bob" / ".git").mkdir(parents=True)  # a clone without the lab's files
    (tmp_path / "lab04-bob" / "README.md").write_text("hello\n")
    (tmp_path / "holiday-photos").mkdir()
    (tmp_path / "holiday-photos" / "a.jpg").write_bytes(b"\xff")
    (tmp_path / ".grade-all").mkdir()
    (tmp_path / "notes.txt").write_text("x")
    entries = {e.name: e for e in cb.discover(tmp_path)}
    assert set(entries) == {"lab04-alice", "lab04-bob", "holiday-photos"}
    assert entries["lab04-alice"].kind == "ok"
    assert entries["lab04-bob"].kind == "no-lab-files"
    assert "neither Dockerfile.prod nor docker-compose.prod.yml" in entries["lab04-bob"].note
    assert entries["holiday-photos"].kind == "not-a-checkout"
    assert entries["lab04-alice"].path.is_absolute()


# ------------------------------------------------------------------------------------------ shared dev


def test_dev_digest_is_equal_exactly_when_the_dev_build_inputs_are(tmp_path: Path) -> None:
    a = make_checkout(tmp_path / "a")
    b = make_checkout(tmp_path / "b", files={"Dockerfile.prod": "FROM scratch\n"})  # prod files do not matter
    c = make_checkout(tmp_path / "c", files={"app/main.py": "print('mine')\n"})
    d = make_checkout(tmp_path / "d", files={"app/notes.txt": "extra file in the build context\n"})
    e = make_checkout(tmp_path / "e", files={"app/Dockerfile": "FROM python:3.13-slim\n"})
    assert cb.dev_digest(a) is not None
    assert cb.dev_digest(a) == cb.dev_digest(b)
    assert len({cb.dev_digest(x) for x in (a, c, d, e)}) == 4


def test_no_sharing_for_a_changed_compose_file_or_a_symlink(tmp_path: Path) -> None:
    a = make_checkout(tmp_path / "a")
    text = (a / "docker-compose.yml").read_text()
    b = make_checkout(tmp_path / "b", files={"docker-compose.yml": text + "\n# mine\n"})
    assert cb.dev_digest(b) is None  # the session builds it, with its safety checks
    c = make_checkout(tmp_path / "c")
    os.symlink("/etc/passwd", c / "app" / "passwd")
    assert cb.dev_digest(c) is None


def test_shared_groups_need_two_gradable_members(tmp_path: Path) -> None:
    entries = []
    for name, files in (("a", {}), ("b", {}), ("c", {"app/main.py": "x = 1\n"})):
        path = make_checkout(tmp_path / name, files=files)
        entries.append(cb.Entry(name, path))
    entries.append(cb.Entry("d", make_checkout(tmp_path / "d"), kind="no-lab-files"))
    groups = cb.shared_groups(entries)
    assert [[e.name for e in g] for g in groups.values()] == [["a", "b"]]


# ------------------------------------------------------------------------------------------ jobs


@pytest.mark.parametrize(
    "cores,memory,expected",
    [
        (2, 24 * GIB, 4),  # two per core
        (2, 2 * GIB, 1),  # memory-bound: 1.5 GiB per grade
        (1, None, 2),
        (64, 512 * GIB, 8),  # capped
        (4, 4 * GIB, 2),
    ],
)
def test_default_jobs(cores: int, memory: int | None, expected: int) -> None:
    jobs, why = cb.default_jobs(cores, memory)
    assert jobs == expected
    assert f"{cores} cores" in why


# ------------------------------------------------------------------------------------------ resume


def _graded(reports: Path, name: str, *, error: str | None = None, junit: bool = True) -> None:
    res = results(name, error=error)
    (reports / f"{name}.json").write_bytes(json_report(res))
    if junit:
        (reports / f"{name}.xml").write_bytes(junit_report(res))
    cb.save_meta(reports, cb.Meta(name, name, "graded"))


def test_complete_means_finished_with_both_reports(tmp_path: Path) -> None:
    _graded(tmp_path, "ok")
    _graded(tmp_path, "cut", error="grading was interrupted; unfinished checks are marked error")
    _graded(tmp_path, "nojunit", junit=False)
    cb.save_meta(tmp_path, cb.Meta("hung", "hung", "timeout", ["timeout"]))
    cb.save_meta(tmp_path, cb.Meta("stopped", "stopped", "interrupted"))
    cb.save_meta(tmp_path, cb.Meta("crashed", "crashed", "failed", ["error"]))
    (tmp_path / "torn.json").write_text('{"checks": [')
    cb.save_meta(tmp_path, cb.Meta("torn", "torn", "graded"))
    done = {n: cb.complete(tmp_path, n) for n in ("ok", "cut", "nojunit", "hung", "stopped", "crashed", "torn", "new")}
    assert done == {
        "ok": True,
        "cut": False,
        "nojunit": False,
        "hung": True,
        "stopped": False,
        "crashed": False,
        "torn": False,
        "new": False,
    }


# ------------------------------------------------------------------------------------------ gradebook


def test_csv_has_push_time_after_commit_only_when_asked() -> None:
    row = Row(
        "org/lab04-a", login="a", commit="c" * 40, pushed_at="2026-12-01T20:00:00Z", total=5, max=100, flags={"late"}
    )
    plain, pushed = io.StringIO(), io.StringIO()
    write_csv([row], plain)
    write_csv([row], pushed, pushed=True)
    assert "pushed_at" not in plain.getvalue()
    head, line = pushed.getvalue().splitlines()
    assert head.startswith("login,repository,commit,pushed_at,graded_at,total,max")
    assert ",2026-12-01T20:00:00Z," in line and line.endswith("late,")


def test_merge_only_builds_the_gradebook_and_summary_from_reports_and_records(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    (reports / cb.META_DIR).mkdir(parents=True)
    full = results("cs/lab04-alice", "a" * 40)
    low = results(
        "cs/lab04-bob",
        "b" * 40,
        lost={"images.size_ratio": 15, "runtime.counter": 15},
        modified_files=["app/Dockerfile"],
    )
    lower = results("cs/lab04-carol", "c" * 40, lost={"images.size_ratio": 15})
    for name, res in (("lab04-alice", full), ("lab04-bob", low), ("lab04-carol", lower)):
        (reports / f"{name}.json").write_bytes(json_report(res))
        (reports / f"{name}.xml").write_bytes(junit_report(res))
    cb.save_meta(
        reports, cb.Meta("lab04-alice", "cs/lab04-alice", "graded", commit="a" * 40, pushed_at="2026-12-01T20:00:00Z")
    )
    cb.save_meta(
        reports,
        cb.Meta(
            "lab04-bob",
            "cs/lab04-bob",
            "graded",
            ["late"],
            ["pushed after the deadline"],
            pushed_at="2026-12-02T08:00:00Z",
        ),
    )
    cb.save_meta(reports, cb.Meta("lab04-dan", "cs/lab04-dan", "no-lab-files", ["no-lab-files"], ["nothing"]))
    out, md = tmp_path / "g.csv", tmp_path / "s.md"
    code = cli.main(
        [
            "grade-all",
            "--merge-only",
            "--reports-dir",
            str(reports),
            "-o",
            str(out),
            "--summary",
            str(md),
            "--prefix",
            "lab04",
        ]
    )
    assert code == 0
    rows = {r["login"]: r for r in read_csv(out)}
    assert set(rows) == {"alice", "bob", "carol", "dan"}
    assert rows["alice"]["pushed_at"] == "2026-12-01T20:00:00Z" and rows["alice"]["total"] == str(MAX)
    assert rows["bob"]["flags"] == "late;tampered:app/Dockerfile"
    assert rows["bob"]["total"] == str(MAX - 30)
    assert rows["dan"]["flags"] == "no-lab-files" and rows["dan"]["total"] == "0" and rows["dan"]["max"] == str(MAX)
    text = md.read_text()
    assert "```mermaid" in text and "xychart-beta" in text
    assert "bar [0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 1]" in text  # 70, 85 and 100
    assert text.index("`images.size_ratio` | 2 | 30") < text.index("`runtime.counter` | 1 | 15")


def test_summary_counts_only_graded_rows() -> None:
    full = {i.id: i.points for i in default_rubric().items}
    top, lost = MAX, full["runtime.up"]
    rows = [
        Row("a", graded_at="t", total=top, max=top, points=full),
        Row("b", graded_at="t", total=top - lost, max=top, points={**full, "runtime.up": 0}),
        Row("c", total=0, max=top, flags={"timeout"}),
    ]
    s = cb.summarize(rows, default_rubric())
    assert s.graded == 2 and s.flagged == 1 and sorted(s.scores) == [top - lost, top]
    assert s.lost == [("runtime.up", 1, lost)]
    assert dict(s.bins)[f"{(top - lost) * 100 // top // 10 * 10}-{(top - lost) * 100 // top // 10 * 10 + 9}%"] == 1
    assert dict(s.bins)["100%"] == 1
    assert "runtime.up" in s.text()


# ------------------------------------------------------------------------------------------ children


def test_child_environment_carries_no_token_nor_workflow_files(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in (
        "GITHUB_TOKEN",
        "GITHUB_OUTPUT",
        "GITHUB_ACTIONS",
        "GITHUB_STEP_SUMMARY",
        "GH_TOKEN",
        "COMPOSE_PROJECT_NAME",
        "GITHUB_REPOSITORY",
    ):
        monkeypatch.setenv(var, "x")
    env = child_env("cs/lab04-alice")
    assert env["GITHUB_REPOSITORY"] == "cs/lab04-alice"
    assert not {k for k in env if k.startswith(("GITHUB_", "COMPOSE_"))} - {"GITHUB_REPOSITORY"}
    assert "GH_TOKEN" not in env
    assert "GITHUB_REPOSITORY" not in child_env("lab04-alice")  # a plain folder name is no repository


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["grade-all"]) == 2
    assert "give a folder of checkouts" in capsys.readouterr().err
    assert cli.main(["grade-all", str(tmp_path / "nope")]) == 2
    assert "is not a folder" in capsys.readouterr().err
    assert cli.main(["grade-all", str(tmp_path), "-o", str(tmp_path / "no" / "g.csv")]) == 2
    assert cli.main(["grade-all", str(tmp_path), "--jobs", "0"]) == 2


def test_summary_says_which_rows_are_incomplete() -> None:
    rows = [
        Row("cs/a", graded_at="t", total=MAX, max=MAX),
        Row("cs/b", total=0, max=MAX, flags={"error"}),
        Row("", login="dora", total=0, max=MAX, flags={"missing"}),  # a rostered student without a repository
    ]
    s = cb.summarize(rows, default_rubric(), ["b: no report from chunk 1"])
    assert s.graded == 1 and s.repositories == 2
    assert s.text().splitlines()[:2] == [
        "class summary: 1 graded, 2 flagged, 1 of 2 incomplete (no grade yet)",
        "  incomplete: b: no report from chunk 1",
    ]
    assert "**Incomplete: 1 of 2 rows have no grade yet**" in s.markdown()
    assert "- `b`: no report from chunk 1" in s.markdown()
    assert "Incomplete" not in cb.summarize(rows, default_rubric()).markdown()
