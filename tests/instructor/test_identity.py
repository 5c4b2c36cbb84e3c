"""Which repository is whose (autograde/instructor/identity.py): decided from the listing, found by id.

`locate` runs against the fake GitHub, which answers renamed and transferred repositories as GitHub
does (301 to /repositories/{id}, the id kept) and deleted ones with 404.
"""

from __future__ import annotations

import pytest
from fake_github import FakeGitHub

from autograde.github_api import GitHubClient, GitHubError
from autograde.instructor import identity as ident
from autograde.instructor.chunks import expected, split
from autograde.instructor.grade_all_policy import Meta, apply_meta
from autograde.instructor.gradebook import Row

TOKEN = "ghp_identity00000000000000000000000000000"


@pytest.fixture
def fake():
    server = FakeGitHub(TOKEN).start()
    yield server
    server.stop()


def client(fake: FakeGitHub, token: str = TOKEN) -> GitHubClient:
    return GitHubClient(token, fake.api_url, sleep=lambda s: None, max_retries=0)


def test_the_login_comes_from_the_listed_name_and_the_token_reads_back() -> None:
    listed = {"name": "lab04-dave", "full_name": "cs/lab04-dave", "id": 123456}
    dave = ident.identify(listed, "lab04")
    assert dave == ident.Identity("lab04-dave", "dave", 123456)
    assert dave.token() == "lab04-dave@123456"
    assert ident.parse(dave.token(), "lab04") == dave
    assert ident.parse("cs/lab04-dave", "lab04") == ident.Identity("lab04-dave", "dave", None)
    assert ident.parse("lab04-dave-2", "lab04").login == "dave-2"  # Classroom's suffix is the name's
    assert ident.identify({"name": "notes", "id": True}, "lab04") == ident.Identity("notes", "notes", None)
    for bad in ("lab04 dave", "$(rm -rf ~)", "lab04-dave@", "lab04-dave@12a", "", "a" * 101):
        with pytest.raises(ValueError, match="not a repository name"):
            ident.parse(bad, "lab04")


def test_chunks_carry_identities_and_the_merge_reads_the_listed_names() -> None:
    tokens = ["lab04-ann@11", "lab04-Ben@12", "lab04-cat"]
    chunks = split(tokens, 2)
    assert chunks == ["lab04-ann@11 lab04-Ben@12", "lab04-cat"]
    assert expected(__import__("json").dumps(chunks)) == {
        "lab04-ann": ("lab04-ann", 0),
        "lab04-ben": ("lab04-Ben", 0),
        "lab04-cat": ("lab04-cat", 1),
    }
    assert expected("lab04-ann@11\ncs/lab04-cat\n") == {
        "lab04-ann": ("lab04-ann", None),
        "lab04-cat": ("lab04-cat", None),
    }
    with pytest.raises(ValueError):
        split(["lab04-ann@11", "lab04-ann@x"], 2)


def test_a_record_gives_its_row_the_login_of_the_identity() -> None:
    """The merge writes the login the listing decided, not one read from the repository column."""
    rows = [Row(repository="cs/lab04-dave", max=100)]
    meta = Meta("lab04-dave", "cs/lab04-dave", "graded", login="dave", repository_id=7)
    assert apply_meta(rows, [meta], 100)[0].login == "dave"
    assert apply_meta([Row(repository="cs/x", max=100)], [Meta("x", "cs/x", "graded")], 100)[0].login == ""


def test_locate_finds_a_renamed_repository_by_its_id_and_keeps_its_listed_name(fake: FakeGitHub) -> None:
    full = fake.add_repo("lab04-dave", default_branch="trunk")
    listed = ident.identify(fake.repo(full) or {}, "lab04")
    fake.rename(full, "dave-docker-lab", listing_lags=True)
    c = client(fake)
    where = ident.locate(c, fake.org, listed)
    assert (where.full_name, where.default_branch, where.gone) == (f"{fake.org}/dave-docker-lab", "trunk", False)
    assert (
        where.note
        == f"renamed on GitHub to {fake.org}/dave-docker-lab; graded as {fake.org}/lab04-dave, its Classroom name"
    )
    assert fake.count(f"/repositories/{listed.id}") == 1
    by_name = ident.locate(c, fake.org, ident.parse("lab04-dave", "lab04"))  # no id: by name, the 301 followed
    assert by_name.full_name == f"{fake.org}/dave-docker-lab" and fake.served(301) == 1
    moved = next(e for e in fake.log if e.status == 301)
    assert moved.path == f"/repos/{fake.org}/lab04-dave"
    unchanged = ident.locate(c, fake.org, ident.identify(fake.repo(fake.add_repo("lab04-ann")) or {}, "lab04"))
    assert (unchanged.full_name, unchanged.note) == (f"{fake.org}/lab04-ann", "")


def test_locate_says_a_deleted_or_transferred_repository_is_gone(fake: FakeGitHub) -> None:
    hank = ident.identify(fake.repo(fake.add_repo("lab04-hank")) or {}, "lab04")
    ivy = ident.identify(fake.repo(fake.add_repo("lab04-ivy")) or {}, "lab04")
    fake.delete(f"{fake.org}/lab04-hank")
    fake.transfer(f"{fake.org}/lab04-ivy", "elsewhere")
    c = client(fake)
    gone = ident.locate(c, fake.org, hank)
    assert (gone.full_name, gone.gone) == ("", True)
    assert gone.note.startswith(f"{fake.org}/lab04-hank (repository id {hank.id}) is not found any more")
    away = ident.locate(c, fake.org, ivy)
    assert (away.full_name, away.gone) == ("", True)
    assert "was transferred to elsewhere/lab04-ivy after the organization was listed" in away.note
    assert ident.locate(c, fake.org, ident.parse("lab04-ivy", "lab04")).gone  # by name: the 301 leads away too
    listed = [r["name"] for r in c.paginate(f"/orgs/{fake.org}/repos")]
    assert listed == []  # the organization lists neither
    fake.undelete(f"{fake.org}/lab04-hank")
    assert ident.locate(c, fake.org, hank).full_name == f"{fake.org}/lab04-hank"


def test_locate_raises_bad_credentials_and_reports_other_failures(fake: FakeGitHub) -> None:
    ann = ident.identify(fake.repo(fake.add_repo("lab04-ann")) or {}, "lab04")
    with pytest.raises(GitHubError) as e:
        ident.locate(client(fake, "wrong"), fake.org, ann)
    assert e.value.status == 401
    fake.failures[f"/repositories/{ann.id}"] = ["500"]
    where = ident.locate(client(fake), fake.org, ann)
    assert (where.full_name, where.gone) == ("", False)  # a rerun may succeed: clone-failed, retried
    assert where.note.startswith(f"{fake.org}/lab04-ann (repository id {ann.id}) could not be read")


@pytest.mark.parametrize(
    ("current", "login", "name"),
    [
        ("lab04-dave", "dave", "lab04-dave"),  # as Classroom made it
        ("LAB04-Dave", "dave", "LAB04-Dave"),  # case as GitHub keeps it
        ("lab04-dave-2", "dave", "lab04-dave-2"),  # Classroom's suffix on a name collision
        ("dave-docker-lab", "dave", "lab04-dave"),  # renamed: its Classroom name
        ("lab04-dave-final", "dave", "lab04-dave"),  # renamed, prefix kept: not another student's
        ("lab04", "dave", "lab04-dave"),
    ],
)
def test_classroom_name_is_the_name_classroom_gave(current: str, login: str, name: str) -> None:
    assert ident.classroom_name(current, login, "lab04") == name


def test_an_accepted_assignment_gives_the_identity_a_chunk_reads_back() -> None:
    item = {
        "id": 1,
        "students": [{"id": 9, "login": "dave"}],
        "repository": {"id": 77, "full_name": "cs/dave-docker-lab", "default_branch": "main"},
    }
    found = ident.from_classroom(item, "lab04")
    assert found == ident.Identity("lab04-dave", "dave", 77)
    assert found is not None and ident.parse(found.token(), "lab04") == found  # the list job's token, read back
    group = {
        **item,
        "students": [{"login": "ann"}, {"login": "bo"}],
        "repository": {"id": 78, "full_name": "cs/lab04-team-x"},
    }
    assert ident.from_classroom(group, "lab04") == ident.Identity("lab04-team-x", "team-x", 78)
    assert ident.from_classroom({"students": [{"login": "x"}], "repository": None}, "lab04") is None
    assert ident.from_classroom({"students": [], "repository": {"id": 5, "full_name": "cs/$(x)"}}, "lab04") is None
