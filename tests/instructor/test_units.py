"""Unit tests: the GitHub client's rate-limit rules, report parsing, roster, tamper diff."""

from __future__ import annotations

import json
import re

import pytest
import requests
from fake_github import FakeGitHub
from instructor_fixtures import MAX, json_report, junit_report, results

from autograde.github_api import GitHubClient, GitHubError, NotFound
from autograde.instructor import tamper
from autograde.instructor.gradebook import Row
from autograde.instructor.reports import ReportError, parse_json_report, parse_junit_report, safe_member_name
from autograde.instructor.roster import RosterEntry, infer_prefix, login_from_repo, match_repositories

TOKEN = "ghp_unit0000000000000000000000000000000"


def resp(status: int, headers: dict[str, str] | None = None, body: object = None) -> requests.Response:
    r = requests.Response()
    r.status_code, r.url, r._content = status, "https://api.github.com/u", json.dumps(body or {}).encode()
    r.headers.update(headers or {})
    return r


def test_rate_limit_rules():
    c = GitHubClient(TOKEN, clock=lambda: 1000.0)
    assert c.rate_limit_wait(resp(429, {"retry-after": "30"})) == (30, "secondary")
    assert c.rate_limit_wait(resp(403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1100"})) == (101, "primary")
    assert c.rate_limit_wait(resp(403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "900"})) == (1, "primary")
    # the reset is on GitHub's clock: a local clock far ahead does not shorten the wait
    date = {"date": "Thu, 01 Jan 1970 00:16:40 GMT"}  # 1000 s after the epoch
    skewed = GitHubClient(TOKEN, clock=lambda: 5000.0)
    assert skewed.rate_limit_wait(resp(403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1100", **date})) == (
        101,
        "primary",
    )
    assert c.rate_limit_wait(resp(403, {}, {"message": "You have exceeded a secondary rate limit"})) == (
        60,
        "secondary",
    )
    assert (
        c.rate_limit_wait(resp(403, {"x-ratelimit-remaining": "4999"}, {"message": "Resource not accessible"})) is None
    )
    assert c.rate_limit_wait(resp(404)) is None
    assert TOKEN not in repr(c)


@pytest.fixture
def fake():
    server = FakeGitHub(TOKEN).start()
    yield server
    server.stop()


def test_pagination_and_waits(fake):
    for i in range(7):
        fake.add_repo(f"r{i}")
    fake.failures["/organizations/1/repos"] = ["reset"]
    slept: list[float] = []

    class Listener:
        calls: list[tuple[float, float, str]] = []

        def waiting(self, remaining, total, reason):
            self.calls.append((remaining, total, reason))

    listener = Listener()
    c = GitHubClient(TOKEN, fake.api_url, sleep=slept.append, listener=listener)
    names = [r["name"] for r in c.paginate(f"/orgs/{fake.org}/repos")]
    assert names == [f"r{i}" for i in range(7)]
    assert 85 <= sum(slept) <= 95 and max(slept) <= 5
    assert listener.calls[0][0] == listener.calls[0][1] and "rate limited" in listener.calls[0][2]
    assert c.requests == 5  # 4 pages + 1 rate-limited answer
    assert c.remaining is not None and c.remaining > 4000  # x-ratelimit-remaining of normal answers


def test_errors_name_the_url_but_not_the_token(fake):
    c = GitHubClient(TOKEN, fake.api_url, sleep=lambda s: None)
    with pytest.raises(NotFound) as e:
        c.get_json("/repos/x/y/branches/main")
    assert e.value.status == 404 and TOKEN not in str(e.value)
    bad = GitHubClient("nope", fake.api_url, sleep=lambda s: None)
    with pytest.raises(GitHubError) as e:
        bad.get_json(f"/orgs/{fake.org}/repos")
    assert e.value.status == 401 and "Bad credentials" in str(e.value)
    fake.failures["/flaky"] = ["500"] * 3
    with pytest.raises(NotFound):  # retried through the 500s, then the real answer
        c.get_json("/flaky")
    assert fake.count("/flaky") == 4


def test_json_report_reasons():
    good = json_report(results(modified_files=["b", "a", "a"]))
    r = parse_json_report(good, "x.json")
    assert (r.score, r.max_score, r.modified_files, r.kind) == (MAX, MAX, ["a", "b"], "json")
    for data, reason in [
        (good[:-20], "not valid JSON (truncated?)"),
        (b"[1, 2]", "top level is a JSON list"),
        (b'{"schema": "autograde-report/2"}', "wrong schema"),
        (b'{"schema": "autograde-report/1", "checks": {}}', "`checks` is missing"),
        (
            b'{"schema": "autograde-report/1", "checks": [{"id": "a", "score": "lots", "max_score": 1}]}',
            "not a whole number",
        ),
        (b'{"a": "\xff"}', "not UTF-8"),
    ]:
        with pytest.raises(ReportError, match=re.escape(reason)):
            parse_json_report(data, "x.json")


def test_junit_report_reasons():
    r = parse_junit_report(junit_report(results(lost={"runtime.up": 10}, errored=("runtime.up",))), "x.xml")
    assert (r.score, r.points["runtime.up"], r.error) == (MAX - 10, 0, "check errored: runtime.up")
    assert r.repository == "cs-class/lab04-alice"
    for data, reason in [
        (b"<testsuites><testsuite name='autograde'>", "not well-formed"),
        (b"<testsuites><testsuite name='pytest'/></testsuites>", 'no <testsuite name="autograde">'),
        (b"<testsuite name='autograde'><testcase name='a'/></testsuite>", "no points/max_points"),
        (b"<testsuite name='autograde'/>", "no <testcase>"),
        (b"<html/>", "foreign XML"),
    ]:
        with pytest.raises(ReportError, match=reason):
            parse_junit_report(data, "x.xml")


def test_member_names():
    assert safe_member_name("autograde-report.json") and safe_member_name("a/b.json")
    for bad in ("../x.json", "a/../../x.json", "/etc/x.json", "C:/x.json", "a\\..\\x.json", ""):
        assert not safe_member_name(bad), bad


def test_logins():
    assert infer_prefix(["lab04-alice", "lab04-bob"]) == "lab04"
    assert infer_prefix(["lab-04-alice", "lab-04-amy"]) == "lab-04"
    assert infer_prefix(["alice"]) is None
    assert login_from_repo("lab04-mary-jane", "lab04") == "mary-jane"
    assert login_from_repo("other", "lab04") == "other"
    roster = [RosterEntry("1", "jane"), RosterEntry("2", "Mary-Jane")]

    def who(name, prefix):
        entry = match_repositories([name], prefix, roster).student_of(name)
        return entry.identifier if entry else None

    assert who("lab04-Mary-Jane", None) == "2"
    assert who("lab04-jane", None) == "1"
    assert who("lab04-mary-jane", "lab04") == "2"
    assert who("lab05-jane", "lab04") is None


def test_tamper_diff():
    paths = tamper.watched("classroom.yml")
    entries = [
        {"path": ".github/workflows/classroom.yml", "mode": "100644", "type": "blob", "sha": "1"},
        {"path": ".github/workflows/other.yml", "mode": "100644", "type": "blob", "sha": "2"},
        {"path": "autograde", "mode": "040000", "type": "tree", "sha": "3"},
        {"path": "autograde/a.py", "mode": "100644", "type": "blob", "sha": "4"},
        {"path": "app/tests/t.py", "mode": "100644", "type": "blob", "sha": "5"},
        {"path": "app/main.py", "mode": "100644", "type": "blob", "sha": "6"},
        {"path": "autograde-notes.md", "mode": "100644", "type": "blob", "sha": "7"},
    ]
    template = tamper.select(entries, paths)
    assert sorted(template) == [".github/workflows/classroom.yml", "app/main.py", "app/tests/t.py", "autograde/a.py"]
    student = dict(template)
    student["autograde/a.py"] = "100755:4"  # same content, made executable
    del student["app/tests/t.py"]
    student["autograde/b.py"] = "100644:9"
    assert tamper.diff(template, student) == ["app/tests/t.py", "autograde/a.py", "autograde/b.py"]
    assert tamper.diff(template, dict(template)) == []


def test_row_round_trip_and_flag_order():
    row = Row(
        "o/lab04-x",
        login="x",
        total=5,
        max=10,
        points={"a": 5},
        flags={"stale", "error", "missing"},
        tampered={"b", "a"},
        notes=["n"],
    )
    assert Row.from_dict(json.loads(json.dumps(row.to_dict()))) == row
    assert row.flag_text() == "missing;error;stale;tampered:a,b"


def test_assignment_repositories_by_roster():
    alice, bob2, carol, dan = (
        RosterEntry("a", "alice"),
        RosterEntry("b", "bob-2"),
        RosterEntry("c", "Carol", "33"),
        RosterEntry("d", "", "44"),
    )
    eve = RosterEntry("e", "eve", "55")  # has only another assignment's repository
    roster = [alice, bob2, carol, dan, eve, RosterEntry("f", "")]
    names = [
        "lab04-alice",
        "lab04-Alice-1",
        "lab04-bob-2",
        "lab04-extra-alice",
        "lab04-zed",
        "lab04-carol-old",
        "lab04-dan-renamed",
        "lab04",
        "lab05-alice",
        "lab04-alice-x",
        "lab04-extra-eve",
    ]
    created = {"lab04-alice": "2024-04-01", "lab04-Alice-1": "2024-04-09"}
    m = match_repositories(names, "lab04", roster, created=created)
    assert m.matched == {alice: "lab04-Alice-1", bob2: "lab04-bob-2"}  # the newest accept; `bob-2` is a login
    assert m.superseded == {alice: ["lab04-alice"]}
    assert m.unmatched == [
        "lab04-extra-alice",
        "lab04-zed",
        "lab04-carol-old",
        "lab04-dan-renamed",
        "lab04-alice-x",
        "lab04-extra-eve",
    ]
    assert m.others == ["lab04", "lab05-alice"]
    assert m.how == {"lab04-alice": "name", "lab04-Alice-1": "suffix", "lab04-bob-2": "name"}
    # by account id, through the collaborators of the left-over repositories
    people = {
        "lab04-carol-old": [("carol-new", "33")],
        "lab04-dan-renamed": [("dan", "44")],
        "lab04-extra-alice": [("alice", "1")],
        "lab04-zed": [("zed", "99")],
        "lab04-extra-eve": [("eve", "55")],
    }
    m = match_repositories(names, "lab04", roster, created=created, collaborators=people)
    assert m.matched[carol] == "lab04-carol-old" and m.matched[dan] == "lab04-dan-renamed"
    assert m.unmatched == ["lab04-extra-alice", "lab04-zed", "lab04-alice-x", "lab04-extra-eve"]
    assert eve not in m.matched
    assert m.student_of("LAB04-CAROL-OLD") == carol and m.student_of("lab04-zed") is None


def test_pagination_by_cursor(fake):
    """List endpoints paged by cursor (e.g. a repository's activity) are followed through `Link` too."""
    fake.add_repo("r0")
    c = GitHubClient(TOKEN, fake.api_url, sleep=lambda s: None)
    nxt = f"{fake.api_url}/orgs/{fake.org}/repos?after=Y3Vyc29y&per_page=100"
    original = fake.route

    def route(h, method, path, query, body):
        if "after" not in query and path.endswith("/repos"):
            return fake._send(h, 200, [{"name": "first"}], {"Link": f'<{nxt}>; rel="next"'})
        return original(h, method, path, query, body)

    fake.route = route
    assert [r["name"] for r in c.paginate(f"/orgs/{fake.org}/repos")] == ["first", "r0"]
    assert [e.query.get("after") for e in fake.log] == [None, "Y3Vyc29y"]
