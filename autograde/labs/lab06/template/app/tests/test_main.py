"""Unit tests for the hit counter and its health endpoint. They replace the Redis client with
small fakes, so no Redis server is needed: they run while app/Dockerfile builds the image."""

import re

import main
import pytest
import redis


class FakeRedis:
    """Stands in for redis.Redis: remembers counters in a dict and answers PING.

    failures: how many first calls fail as if Redis were still starting (or gone);
    error: what those calls raise, as redis-py does.
    """

    def __init__(self, failures=0, error=None):
        self.values = {}
        self.calls = 0
        self.pings = 0
        self.failures = failures
        self.error = error or redis.exceptions.ConnectionError("Error 111 connecting. Connection refused.")

    def _maybe_fail(self):
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error

    def incr(self, key):
        self._maybe_fail()
        self.values[key] = self.values.get(key, 0) + 1
        return self.values[key]

    def ping(self):
        self.pings += 1
        self._maybe_fail()
        return True


@pytest.fixture(autouse=True)
def isolated(monkeypatch):
    monkeypatch.setattr(main, "BACKOFF_SECONDS", 0)  # retry without sleeping
    monkeypatch.setattr(main, "_client", None)
    monkeypatch.delenv("REDIS_HOST", raising=False)
    monkeypatch.delenv("REDIS_PORT", raising=False)


@pytest.fixture
def use_redis(monkeypatch):
    def install(fake):
        monkeypatch.setattr(main, "get_redis", lambda: fake)
        return fake

    return install


@pytest.fixture
def client():
    main.app.config["TESTING"] = True
    with main.app.test_client() as test_client:
        yield test_client


def numbers_in(text):
    return [int(n) for n in re.findall(r"\d+", text)]


def test_each_visit_increments_the_counter(client, use_redis):
    fake = use_redis(FakeRedis())
    first = client.get("/")
    second = client.get("/")
    assert first.status_code == 200
    assert second.status_code == 200
    assert numbers_in(first.get_data(as_text=True)) == [1]
    assert numbers_in(second.get_data(as_text=True)) == [2]
    assert fake.values == {"hits": 2}


def test_answer_is_one_line_of_plain_text(client, use_redis):
    use_redis(FakeRedis())
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    body = response.get_data(as_text=True)
    assert len(body.strip().splitlines()) == 1
    assert "viewed 1 times" in body


def test_redis_down_gives_503_with_a_clear_message(client, use_redis, monkeypatch):
    monkeypatch.setenv("REDIS_HOST", "redis")
    fake = use_redis(FakeRedis(failures=1000))
    response = client.get("/")
    assert response.status_code == 503
    assert response.mimetype == "text/plain"
    body = response.get_data(as_text=True)
    assert "cannot reach Redis at redis:6379" in body
    assert "Traceback" not in body
    assert fake.calls == main.RETRIES  # it retried before giving up


def test_counter_works_once_redis_is_up(client, use_redis):
    fake = use_redis(FakeRedis(failures=2))
    response = client.get("/")
    assert response.status_code == 200
    assert numbers_in(response.get_data(as_text=True)) == [1]
    assert fake.calls == 3


def test_health_is_200_when_redis_answers_ping(client, use_redis):
    fake = use_redis(FakeRedis())
    response = client.get("/health")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == "healthy: Redis answered PING\n"
    assert fake.pings == 1


@pytest.mark.parametrize(
    "error",
    [
        redis.exceptions.ConnectionError("Error -2 connecting to redis:6379. Name or service not known."),
        redis.exceptions.TimeoutError("Timeout connecting to server"),
        redis.exceptions.ResponseError("NOAUTH Authentication required."),
    ],
    ids=["unreachable", "too-slow", "error-reply"],
)
def test_health_is_503_when_redis_does_not_answer_ping(client, use_redis, monkeypatch, error):
    monkeypatch.setenv("REDIS_HOST", "redis")
    use_redis(FakeRedis(failures=1000, error=error))
    response = client.get("/health")
    assert response.status_code == 503
    assert response.mimetype == "text/plain"
    body = response.get_data(as_text=True)
    assert body == "unhealthy: cannot reach Redis at redis:6379\n"
    assert "Traceback" not in body


def test_health_asks_once_and_leaves_retrying_to_docker(client, use_redis):
    fake = use_redis(FakeRedis(failures=1))
    assert client.get("/health").status_code == 503
    assert fake.pings == 1  # no retries of its own: Docker's `retries` decides
    assert client.get("/health").status_code == 200  # Redis is back: healthy again


def test_health_never_counts_a_visit(client, use_redis):
    fake = use_redis(FakeRedis())
    for _ in range(3):
        assert client.get("/health").status_code == 200
    assert fake.values == {}
    assert numbers_in(client.get("/").get_data(as_text=True)) == [1]


def test_redis_settings_come_from_the_environment(monkeypatch):
    assert main.redis_config() == ("localhost", 6379)
    monkeypatch.setenv("REDIS_HOST", "redis")
    monkeypatch.setenv("REDIS_PORT", "6390")
    assert main.redis_config() == ("redis", 6390)
    # Creating the client must not connect; it only records the settings.
    settings = main.get_redis().connection_pool.connection_kwargs
    assert (settings["host"], settings["port"]) == ("redis", 6390)


def test_unknown_page_is_404(client, use_redis):
    fake = use_redis(FakeRedis())
    assert client.get("/nope").status_code == 404
    assert fake.calls == 0
