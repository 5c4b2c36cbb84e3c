"""`autograde export`: folders of reports (loose or zipped) -> CSV gradebook."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

from instructor_fixtures import CHECK_IDS, MAX, artifact_zip, both, json_report, junit_report, results

from autograde import cli

ORG = "cs-class"
T0 = "2024-05-01T10:00:00+00:00"
T1 = "2024-05-02T10:00:00+00:00"


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def make_class(root: Path) -> None:
    a = results(f"{ORG}/lab04-alice", "a" * 40, T0)
    for name, data in both(a).items():  # loose files, one folder per repository
        write(root / "lab04-alice" / name, data)
    b = results(f"{ORG}/lab04-bob", "b" * 40, T0, {"runtime.counter": 15})
    write(root / "lab04-bob" / "autograde-report.zip", artifact_zip(both(b)))  # as GitHub serves it
    c = results(f"{ORG}/lab04-carol", "c" * 40, T0, {"compose.web_prod": 10})
    write(root / "lab04-carol" / "autograde-report.xml", junit_report(c))  # JUnit alone
    d = results(f"{ORG}/lab04-dave", "d" * 40, T0, modified_files=[".github/workflows/classroom.yml", "autograde/x.py"])
    write(root / "lab04-dave.zip", artifact_zip(both(d)))  # a zip directly in REPORTS_DIR
    e_old = results(f"{ORG}/lab04-erin", "e" * 40, T0, {"runtime.up": 10})
    e_new = results(
        f"{ORG}/lab04-erin",
        "f" * 40,
        T1,
        static_only=True,
        error="boom",
        errored=("runtime.up",),
        lost={"runtime.up": 10, "runtime.counter": 15},
    )
    write(root / "lab04-erin" / "run1" / "autograde-report.json", json_report(e_old))
    write(root / "lab04-erin" / "run2" / "autograde-report.json", json_report(e_new))  # newest wins
    good = json_report(results(f"{ORG}/lab04-frank", "1" * 40, T0))
    write(root / "lab04-frank" / "autograde-report.json", good[: good.rindex(b'"message": "') + 13])  # cut mid-string
    write(root / "lab04-grace" / "autograde-report.json", b'{"schema": "other/2", "checks": []}')
    write(root / "lab04-heidi" / "autograde-report.xml", b'<?xml version="1.0"?><project><x/></project>')


def test_export_class(tmp_path, capsys):
    reports = tmp_path / "reports"
    make_class(reports)
    out = tmp_path / "grades.csv"
    assert cli.main(["export", str(reports), "-o", str(out)]) == 1  # bad reports listed -> 1
    err = capsys.readouterr().err
    assert "lab04-frank/autograde-report.json: not valid JSON (truncated?)" in err
    assert "lab04-grace/autograde-report.json: wrong schema 'other/2'" in err
    assert "lab04-heidi/autograde-report.xml: foreign XML: root element <project>" in err
    rows = read_csv(out)
    assert list(rows[0])[:6] == ["login", "repository", "commit", "graded_at", "total", "max"]
    assert list(rows[0])[6:] == [*CHECK_IDS, "flags", "notes"]
    by = {r["login"]: r for r in rows}
    assert list(by) == ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"]
    assert (by["alice"]["total"], by["alice"]["max"], by["alice"]["flags"]) == (str(MAX), str(MAX), "")
    assert by["alice"]["repository"] == f"{ORG}/lab04-alice" and by["alice"]["commit"] == "a" * 40
    assert by["alice"]["graded_at"] == T0
    assert (by["bob"]["total"], by["bob"]["runtime.counter"], by["bob"]["runtime.up"]) == (str(MAX - 15), "0", "10")
    assert (by["carol"]["total"], by["carol"]["compose.web_prod"]) == (str(MAX - 10), "0")
    assert by["carol"]["notes"] == "from the JUnit report (no JSON report)"
    assert by["dave"]["flags"] == "tampered:.github/workflows/classroom.yml,autograde/x.py"
    assert (by["erin"]["commit"], by["erin"]["total"], by["erin"]["flags"]) == (
        "f" * 40,
        str(MAX - 25),
        "error;static-only",
    )
    assert by["erin"]["notes"] == "grading error: boom"
    for login in ("frank", "grace", "heidi"):
        assert by[login]["flags"] == "missing;bad-report", login
        assert by[login]["total"] == "0" and by[login]["max"] == str(MAX)
        assert by[login]["repository"] == f"lab04-{login}"


def test_export_with_roster(tmp_path, capsys):
    reports = tmp_path / "r"
    for login in ("alice", "bob-the-builder"):
        res = results(f"{ORG}/lab04-{login}", "a" * 40, T0)
        write(reports / f"lab04-{login}" / "autograde-report.json", json_report(res))
    write(reports / "lab04-zed" / "autograde-report.json", json_report(results(f"{ORG}/lab04-zed", "a" * 40, T0)))
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "\ufeffidentifier,github_username,github_id,name\ns1,Alice,1,A\ns2,bob-the-builder,2,B\ns3,carol,3,C\ns4,,,D\n",
        encoding="utf-8",
    )
    out = tmp_path / "g.csv"
    assert cli.main(["export", str(reports), "-o", str(out), "--roster", str(roster)]) == 0
    rows = read_csv(out)
    got = [(r["identifier"], r["login"], r["repository"], r["total"], r["max"], r["flags"]) for r in rows]
    assert got == [
        ("s1", "Alice", f"{ORG}/lab04-alice", str(MAX), str(MAX), ""),
        ("s2", "bob-the-builder", f"{ORG}/lab04-bob-the-builder", str(MAX), str(MAX), ""),
        ("s3", "carol", "", "0", str(MAX), "missing"),
        ("s4", "", "", "0", str(MAX), "missing"),
        ("", "zed", f"{ORG}/lab04-zed", str(MAX), str(MAX), "not-in-roster"),
    ]
    assert all(r[c] == "" for r in rows if r["flags"] == "missing" for c in CHECK_IDS)


def test_junit_and_json_agree(tmp_path):
    res = results(f"{ORG}/lab04-x", "a" * 40, T0, {"images.size_ratio": 15, "dockerfile.builder_tests": 5})
    for kind, data in both(res).items():
        folder = tmp_path / kind
        write(folder / "lab04-x" / kind, data)
        assert cli.main(["export", str(folder), "-o", str(tmp_path / f"{kind}.csv")]) == 0
    j, x = read_csv(tmp_path / "autograde-report.json.csv"), read_csv(tmp_path / "autograde-report.xml.csv")
    assert {k: v for k, v in j[0].items() if k != "notes"} == {k: v for k, v in x[0].items() if k != "notes"}
    assert j[0]["total"] == str(MAX - 20)


def test_hostile_zips_are_listed_not_fatal(tmp_path, capsys):
    reports = tmp_path / "r"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("../../evil.json", json_report(results()))
        zf.writestr("/abs.json", json_report(results()))
        zf.writestr("bomb.json", b" " * (9 * 1024 * 1024))  # compresses to ~9 KB, inflates past the cap
    write(reports / "lab04-mallory" / "autograde-report.zip", buf.getvalue())
    write(reports / "lab04-oscar" / "autograde-report.zip", b"PK\x03\x04 not really a zip")
    write(
        reports / "lab04-peggy" / "autograde-report.xml",
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><testsuite name="autograde">&lol;</testsuite>',
    )
    out = tmp_path / "g.csv"
    assert cli.main(["export", str(reports), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "../../evil.json: unsafe member name" in err and "/abs.json: unsafe member name" in err
    assert "bomb.json: zip member too large" in err
    assert "lab04-oscar/autograde-report.zip: not a readable zip archive" in err
    assert "DTD or entities" in err
    assert not (tmp_path / "evil.json").exists()
    assert {r["login"]: r["flags"] for r in read_csv(out)} == {
        "mallory": "missing;bad-report",
        "oscar": "missing;bad-report",
        "peggy": "missing;bad-report",
    }


def test_formula_cells_are_neutralised(tmp_path):
    res = results('=HYPERLINK("http://x")/lab04-x', "a" * 40, T0, modified_files=["=cmd|' /C calc'!A0"])
    write(tmp_path / "r" / "lab04-x" / "autograde-report.json", json_report(res))
    assert cli.main(["export", str(tmp_path / "r"), "-o", str(tmp_path / "g.csv")]) == 0
    row = read_csv(tmp_path / "g.csv")[0]
    assert row["repository"].startswith("'=") and row["flags"].startswith("tampered:=")


def test_usage_errors(tmp_path, capsys):
    assert cli.main(["export", str(tmp_path / "nope"), "-o", str(tmp_path / "g.csv")]) == 2
    (tmp_path / "r").mkdir()
    (tmp_path / "roster.csv").write_text("identifier,email\nx,y\n")
    assert cli.main(["export", str(tmp_path / "r"), "--roster", str(tmp_path / "roster.csv")]) == 2
    assert "github_username" in capsys.readouterr().err
    assert cli.main(["export", str(tmp_path / "r"), "-o", str(tmp_path / "missing-dir" / "g.csv")]) == 2


def test_stdout_and_empty_folder(tmp_path, capsys):
    (tmp_path / "r").mkdir()
    assert cli.main(["export", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == ["login,repository,commit,graded_at,total,max,flags,notes"]


def test_reports_graded_under_another_rubric_or_workflow_are_flagged(tmp_path):
    """The rubric in effect is in every JSON report: a report graded under another rubric than the class's
    (the one most reports share) is flagged, and so is one whose workflow did not match its rubric."""
    from autograde.checks import default_rubric, load_rubric

    usual, other = default_rubric(), load_rubric(text="points:\n  runtime.up: 20\n", source="env AUTOGRADE_RUBRIC")
    reports = tmp_path / "reports"
    for login, rubric, mismatch in (("alice", usual, False), ("bob", usual, True), ("carol", other, False)):
        res = results(f"{ORG}/lab04-{login}", "a" * 40, T0)
        res.rubric = rubric.to_dict()
        if mismatch:
            res.grader["workflow_mismatch"] = {"missing": ["runtimeup"], "extra": []}
        write(reports / f"lab04-{login}" / "autograde-report.json", json_report(res))
    res = results(f"{ORG}/lab04-dan", "a" * 40, T0)  # an older report: says nothing of its rubric
    write(reports / "lab04-dan" / "autograde-report.json", json_report(res))
    out = tmp_path / "grades.csv"
    assert cli.main(["export", str(reports), "-o", str(out)]) == 0
    by = {r["login"]: r for r in read_csv(out)}
    assert by["alice"]["flags"] == "" and by["dan"]["flags"] == ""
    assert by["bob"]["flags"] == "workflow-mismatch"
    assert by["carol"]["flags"] == "rubric-mismatch"
    assert f"graded under rubric {other.fingerprint()} (env AUTOGRADE_RUBRIC)" in by["carol"]["notes"]
    assert f"not the class's {usual.fingerprint()} (default)" in by["carol"]["notes"]
