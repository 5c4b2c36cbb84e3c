"""Case 6: docker-compose.prod.yml that is malformed, not a mapping, an alias bomb, 10 MB,
or nested without end. The compose checks fail with the parse problem, the runtime checks
are skipped before anything starts, the grader does not hang and its memory stays bounded."""

from __future__ import annotations

import pytest

from hostile.harness import COMPOSE, DOCKERFILE, RUNTIME, assert_clean, checkout, grade, snapshot

pytestmark = pytest.mark.docker

# billion laughs: 10^9 scalars once expanded
BOMB = (
    "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    + "".join(f"{n}: &{n} [{', '.join([f'*{p}'] * 10)}]\n" for p, n in zip("abcdefgh", "bcdefghi"))
    + "services:\n  web_prod: *i\n"
)
CASES = {
    # name: (file text or bytes, words the compose.services message must hold)
    "malformed": ("services:\n  web_prod:\n    build: .\n   image: x\n", ["invalid YAML", ":4"]),
    "tab-indent": ("services:\n\tweb_prod:\n", ["invalid YAML"]),
    "unclosed-quote": ('services:\n  web_prod:\n    image: "redis\n', ["invalid YAML"]),
    "a-list": ("- services\n- web_prod\n", ["must be a mapping", "list"]),
    "a-string": ("just some text\n", ["must be a mapping", "str"]),
    "services-a-list": ("services:\n  - web_prod\n  - redis_prod\n", ["`services` must be a mapping"]),
    "only-comments": ("# TODO\n", ["no content"]),
    "alias-bomb": (BOMB, ["alias bomb"]),
    "ten-megabytes": ("services:\n" + "# padding\n" * 1_000_000, ["10.0 MB", "1 MiB"]),
    "deep-flow": ("services: " + "[" * 20000 + "]" * 20000 + "\n", ["nest"]),
    "deep-block": ("services:\n" + "".join(" " * i + f"k{i}:\n" for i in range(1, 1200)), ["nest"]),
    "python-tag": ("services: !!python/object/apply:os.system ['touch /tmp/pwned']\n", ["invalid YAML"]),
    "binary": (b"services:\n\0\0\0", ["binary"]),
    "latin-1": ("services:\n  web_prod:\n    image: caf\xe9\n".encode("latin-1"), ["UTF-8"]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_compose_file_that_cannot_be_used(tmp_path, name):
    text, words = CASES[name]
    co = checkout(tmp_path / "co")
    target = co / "docker-compose.prod.yml"
    target.write_bytes(text if isinstance(text, bytes) else text.encode())
    before = snapshot()
    g = grade(co, timeout=120)
    assert g.report is not None, g.explain()
    assert g.returncode == 1, g.explain()
    assert g.seconds < 45, f"took {g.seconds:.0f} s"
    assert g.max_rss_mb < 300, f"the grader used {g.max_rss_mb:.0f} MB"
    for check in COMPOSE:
        c = g.checks[check]
        assert c["status"] == "fail", c
        assert "docker-compose.prod.yml" in c["message"], c
    message = g.message("compose.services")
    for word in words:
        assert word in message, message
    for check in RUNTIME:
        assert g.status(check) == "skip", g.message(check)
        assert "docker-compose.prod.yml cannot be used" in g.message(check)
    for check in DOCKERFILE:
        assert g.status(check) == "pass", g.message(check)
    assert "Traceback" not in g.stderr, g.stderr
    assert_clean(g, before)
