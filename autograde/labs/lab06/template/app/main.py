"""LAB06 hit counter: a small Flask app that counts page views in Redis and reports its health.

Routes:
  /        counts the visit in Redis and says how many there have been
  /health  200 when Redis answers PING, 503 when it does not (for Docker's health check)

Configuration comes from the environment:
  REDIS_HOST   host name of the Redis server (default: localhost)
  REDIS_PORT   its port (default: 6379)
  FLASK_DEBUG  "1" turns on Flask's development mode (debugger and auto-reload)
"""

import os
import signal
import sys
import time


def _exit_on_sigterm(signum, frame):
    # As PID 1 in a container, Python ignores SIGTERM unless a handler is installed, and
    # `docker compose down` or `stop` would then wait 10 s before killing the container.
    sys.exit(0)


if __name__ == "__main__":
    # Installed before the slow imports below, so even a container stopped right after it
    # started exits at once.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)

import redis  # noqa: E402  (imported after the signal handler on purpose)
from flask import Flask, Response  # noqa: E402
from redis.backoff import NoBackoff  # noqa: E402
from redis.retry import Retry  # noqa: E402

# How often a request to / tries Redis before giving up, and the pause before the first retry
# (it doubles after each failure: 0.2 + 0.4 + 0.8 + 1.6 s at most).
# The unit tests set the pause to 0.
RETRIES = 5
BACKOFF_SECONDS = 0.2

app = Flask(__name__)

_client = None  # created on first use, never at import time


def redis_config():
    """Return (host, port) of the Redis server, read from the environment."""
    host = os.environ.get("REDIS_HOST", "localhost")
    port = int(os.environ.get("REDIS_PORT", "6379"))
    return host, port


def get_redis():
    """Return the shared Redis client (creating it does not open a connection yet)."""
    global _client
    if _client is None:
        host, port = redis_config()
        # retry=Retry(NoBackoff(), 0): the client does not retry on its own (redis-py's default would
        # retry each attempt with growing pauses), so get_hit_count's retries are the only ones, and
        # a request that cannot reach Redis is answered within a few seconds (/health within 2 s).
        _client = redis.Redis(
            host=host, port=port, socket_connect_timeout=2, socket_timeout=2, retry=Retry(NoBackoff(), 0)
        )
    return _client


def get_hit_count():
    """Increment and return the counter, retrying while Redis is still starting up."""
    client = get_redis()
    delay = BACKOFF_SECONDS
    for attempt in range(1, RETRIES + 1):
        try:
            return client.incr("hits")
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
            if attempt == RETRIES:
                raise
            time.sleep(delay)
            delay *= 2


@app.route("/")
def hello():
    try:
        count = get_hit_count()
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
        host, port = redis_config()
        message = f"Service unavailable: cannot reach Redis at {host}:{port}. Please try again shortly.\n"
        return Response(message, status=503, mimetype="text/plain")
    return Response(f"Hello from Docker! This page has been viewed {count} times.\n", mimetype="text/plain")


@app.route("/health")
def health():
    """Is the app able to do its job? Without Redis it cannot count, so Redis must answer PING.

    One PING and no retries: Docker runs the health check again every `interval` and decides only
    after `retries` failures in a row. It never counts a visit.
    """
    try:
        get_redis().ping()
    except redis.exceptions.RedisError:  # unreachable, too slow, or answering with an error
        host, port = redis_config()
        return Response(f"unhealthy: cannot reach Redis at {host}:{port}\n", status=503, mimetype="text/plain")
    return Response("healthy: Redis answered PING\n", mimetype="text/plain")


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=5000, debug=os.environ.get("FLASK_DEBUG") == "1")
