"""The GitHub client against a fake that misbehaves as GitHub's REST documentation says it may.

Waits go through an injected clock: nothing here sleeps for real.
"""

from __future__ import annotations

import pytest
from fake_github import FakeGitHub
from instructor_fixtures import artifact_zip, both, results

from autograde.github_api import GitHubClient, GitHubError, NotFound, NotTheAPI, Uncertain

TOKEN = "ghp_client000000000000000000000000000000"


class FakeTime:
    """sleep() advances the clock instead of waiting."""

    def __init__(self) -> None:
        self.now = 1_000_000.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


@pytest.fixture
def fake():
    server = FakeGitHub(TOKEN).start()
    yield server
    server.stop()


@pytest.fixture
def t():
    return FakeTime()


def client(fake: FakeGitHub, t: FakeTime, **kw) -> GitHubClient:
    return GitHubClient(TOKEN, fake.api_url, sleep=t.sleep, monotonic=t.clock, **kw)


def artifact(fake: FakeGitHub) -> tuple[str, bytes, int]:
    full = fake.add_repo("lab04-alice")
    data = artifact_zip(both(results()))
    run = fake.add_run(full, "a" * 40, "2024-05-01T10:00:00Z", data)
    aid = fake.artifacts[run][0]["id"]
    return f"{fake.api_url}/repos/{full}/actions/artifacts/{aid}/zip", data, aid


# ----------------------------------------------------------------------------- defect 2: cut-off transfers


@pytest.mark.parametrize("cut", ["truncate", "chunked-cut"])
def test_cut_off_download_is_retried_and_never_returned(fake, t, cut):
    url, data, aid = artifact(fake)
    fake.failures[f"/storage/{aid}"] = [cut]
    c = client(fake, t)
    assert c.download(url, 10**6) == data  # the second, whole transfer
    assert fake.count(f"/storage/{aid}") == 2
    fake.failures[f"/storage/{aid}"] = [cut] * 5  # one try and four retries, each with a fresh signed URL
    with pytest.raises(GitHubError) as e:
        c.download(url, 10**6)
    assert e.value.transient and "cut off" in e.value.message
    assert fake.count(f"/storage/{aid}") == 2 + 5


def test_cut_off_json_answer_is_retried(fake, t):
    fake.add_repo("r0")
    fake.failures[f"/orgs/{fake.org}/repos"] = ["truncate", "chunked-cut"]
    assert [r["name"] for r in client(fake, t).paginate(f"/orgs/{fake.org}/repos")] == ["r0"]
    assert fake.count(f"/orgs/{fake.org}/repos") == 3


def test_download_size_cap(fake, t):
    url, data, _ = artifact(fake)
    with pytest.raises(GitHubError) as e:
        client(fake, t).download(url, len(data) - 1)
    assert not e.value.transient and "larger than" in e.value.message


# ----------------------------------------------------------------------------- defect 3: redirects


def test_redirects_are_followed_and_the_token_stays_on_the_api_host(fake, t):
    url, data, aid = artifact(fake)
    fake.rename(f"{fake.org}/lab04-alice", "lab04-alice-renamed")
    c = client(fake, t)
    repo = c.get(f"/repos/{fake.org}/lab04-alice")  # 301 to /repositories/{id}
    assert repo["default_branch"] == "main" and repo["full_name"] == f"{fake.org}/lab04-alice-renamed"
    assert any(e.path.startswith("/repositories/") and e.authorization == f"Bearer {TOKEN}" for e in fake.log)
    assert c.download(url, 10**6) == data  # 301, then 302 to storage: no token there, no query in logs
    storage = [e for e in fake.log if e.path.startswith("/storage/")]
    assert storage and all(e.authorization is None for e in storage)
    fake.failures[f"/repos/{fake.org}/lab04-alice-renamed/branches/main"] = ["307"]
    fake.set_head(f"{fake.org}/lab04-alice-renamed", "a" * 40, "2024-05-01T09:00:00Z")
    assert c.get(f"/repos/{fake.org}/lab04-alice-renamed/branches/main")["name"] == "main"


def test_a_post_follows_307_with_its_body_once(fake, t):
    full = fake.add_repo("lab04-bob")
    fake.runs[full] = []
    fake.rename(full, "lab04-robert")
    resp = client(fake, t).post(f"/repos/{full}/actions/workflows/classroom.yml/dispatches", {"ref": "main"})
    assert resp.status_code == 204
    assert fake.dispatches == [(f"{fake.org}/lab04-robert", "classroom.yml", {"ref": "main"})]
    assert [e.status for e in fake.log if e.method == "POST"] == [307, 204]


def test_expired_signed_url_gets_a_fresh_one(fake, t):
    url, data, aid = artifact(fake)
    path = url.split(str(fake.port), 1)[1]
    fake.failures["after:" + path] = ["expired-url"]
    assert client(fake, t).download(url, 10**6) == data
    assert [e.status for e in fake.log if e.path.startswith("/storage/")] == [403, 200]
    fake.failures["after:" + path] = ["expired-url"] * 3
    with pytest.raises(GitHubError) as e:
        client(fake, t).download(url, 10**6)
    assert e.value.transient and "storage refused" in e.value.message
    assert "SAS-SECRET" not in str(e.value)  # the signature is not printed


# ----------------------------------------------------------------------------- defect 7: limits and retries


@pytest.mark.slow
def test_secondary_limits_back_off_exponentially(fake, t):
    fake.add_repo("r0")
    fake.failures[f"/orgs/{fake.org}/repos"] = ["secondary", "secondary", "secondary-retry-after", "secondary"]
    waits: list[float] = []

    class Listener:
        def waiting(self, remaining, total, reason):
            if remaining == total:
                waits.append(total)

    c = client(fake, t, listener=Listener())
    assert [r["name"] for r in c.paginate(f"/orgs/{fake.org}/repos")] == ["r0"]
    assert waits == [60, 120, 28, 480]  # 60 s, doubled each time; retry-after 7 doubled twice
    fake.failures[f"/orgs/{fake.org}/repos"] = ["secondary"] * 10
    with pytest.raises(GitHubError) as e:
        list(c.paginate(f"/orgs/{fake.org}/repos"))
    assert e.value.transient and "secondary rate limit persists" in e.value.message


def test_used_up_budget_is_waited_out_before_the_403(fake, t):
    for i in range(5):
        fake.add_repo(f"r{i}")
    fake.remaining = 2  # the second page's answer says remaining: 0
    fake.now = lambda: t.now  # GitHub's clock: 12 days behind ours
    t.now += 12 * 86400
    c = client(fake, t, clock=lambda: t.now + 12 * 86400)
    assert len(list(c.paginate(f"/orgs/{fake.org}/repos"))) == 5
    assert fake.served(403) == 0
    assert 1790 <= sum(t.slept) <= 1810  # until x-ratelimit-reset, on GitHub's clock


@pytest.mark.slow
def test_posts_are_paced_and_never_retried_after_a_5xx(fake, t):
    full = fake.add_repo("lab04-carol")
    fake.runs[full] = []
    path = f"/repos/{full}/actions/workflows/classroom.yml/dispatches"
    c = client(fake, t)
    c.post(path, {"ref": "main"})
    c.post(path, {"ref": "main"})
    assert t.slept and t.slept[-1] == pytest.approx(1.0)  # at least 1 s between mutating requests
    fake.failures["after:" + path] = ["502"]
    with pytest.raises(Uncertain):
        c.post(path, {"ref": "main"})
    fake.failures[path] = ["500"]
    with pytest.raises(Uncertain):
        c.post(path, {"ref": "main"})
    assert fake.count(path, "POST") == 4 and len(fake.dispatches) == 3
    fake.failures["/flaky"] = ["500"] * 3
    with pytest.raises(NotFound):  # a GET is retried through 5xx, with back-off
        c.get("/flaky")
    assert fake.count("/flaky") == 4


# ----------------------------------------------------------------------------- defect 9: GitHub Enterprise Server


def test_bare_enterprise_host_is_recognised(t):
    fake = FakeGitHub(TOKEN, api_prefix="/api/v3").start()
    try:
        fake.add_repo("r0")
        c = GitHubClient(TOKEN, fake.host_url, sleep=t.sleep, monotonic=t.clock)
        with pytest.raises(NotTheAPI) as e:
            list(c.paginate(f"/orgs/{fake.org}/repos"))
        assert f"--api-url {fake.host_url}/api/v3" in e.value.message
        right = GitHubClient(TOKEN, fake.api_url, sleep=t.sleep, monotonic=t.clock)
        assert [r["name"] for r in right.paginate(f"/orgs/{fake.org}/repos")] == ["r0"]
    finally:
        fake.stop()


def test_netrc_credentials_never_replace_the_token_nor_reach_storage(fake, t, tmp_path, monkeypatch):
    url, data, _ = artifact(fake)
    netrc = tmp_path / ".netrc"
    netrc.write_text(
        "machine 127.0.0.1 login me password api-secret\nmachine localhost login me password storage-secret\n"
    )
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    assert client(fake, t).download(url, 10**6) == data
    api = [e for e in fake.log if not e.path.startswith("/storage/")]
    assert api and all(e.authorization == f"Bearer {TOKEN}" for e in api)
    assert all(e.authorization is None for e in fake.log if e.path.startswith("/storage/"))
