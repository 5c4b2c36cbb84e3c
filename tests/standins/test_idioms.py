"""The multi-stage idioms students copy from tutorials written for the official images build and
run on the base images this engine holds: each one a tiny Dockerfile, built by Compose as the
grader builds, then run.
"""

from __future__ import annotations

import secrets

import pytest
from standin_support import SLIM, base_images, build, docker_cli  # noqa: F401  (fixtures)

pytestmark = pytest.mark.docker

TEST_FILE = """
    import sys

    def test_runs_on_usr_local():
        assert sys.executable == "/usr/local/bin/python"
    """


def run_image(tag: str, *cmd: str) -> str:
    done = docker_cli("run", "--rm", tag, *cmd)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.strip()


def test_builder_runs_pytest_with_usr_local_bin_python(build):
    built = build(
        """
        FROM {FULL} AS builder
        WORKDIR /src
        RUN pip install --no-cache-dir pytest
        COPY test_sample.py .
        RUN /usr/local/bin/python -m pytest -q test_sample.py

        FROM {SLIM}
        COPY --from=builder /src/test_sample.py /app/
        CMD ["python", "-c", "print('ok')"]
        """,
        {"test_sample.py": TEST_FILE + f"    # {secrets.token_hex(8)}: no cached test run\n"},
    )
    assert "1 passed" in built.output
    assert run_image(built.tag) == "ok"


def test_pip_install_prefix_copied_to_usr_local(build):
    built = build("""
        FROM {FULL} AS builder
        RUN pip install --no-cache-dir --prefix=/install six

        FROM {SLIM}
        COPY --from=builder /install /usr/local
        """)
    assert (
        run_image(built.tag, "python", "-c", "import six; print(six.__file__)")
        == "/usr/local/lib/python3.13/site-packages/six.py"
    )


def test_site_packages_copied_between_stages(build):
    built = build("""
        FROM {FULL} AS builder
        RUN pip install --no-cache-dir six
        RUN test -f /usr/local/lib/python3.13/site-packages/six.py

        FROM {SLIM}
        COPY --from=builder /usr/local/lib/python3.13/site-packages /usr/local/lib/python3.13/site-packages
        """)
    assert (
        run_image(built.tag, "python", "-c", "import six; print(six.__file__)")
        == "/usr/local/lib/python3.13/site-packages/six.py"
    )


def test_pip_install_user_and_root_local_copied(build):
    built = build("""
        FROM {FULL} AS builder
        RUN pip install --no-cache-dir --user pytest

        FROM {SLIM}
        COPY --from=builder /root/.local /root/.local
        ENV PATH=/root/.local/bin:$PATH
        """)
    out = run_image(built.tag, "sh", "-c", "command -v pytest; python -c 'import pytest; print(pytest.__file__)'")
    assert out.split() == ["/root/.local/bin/pytest", "/root/.local/lib/python3.13/site-packages/pytest/__init__.py"]
    assert run_image(built.tag, "pytest", "--version").startswith("pytest ")


def test_venv_points_at_usr_local_python(build):
    built = build("""
        FROM {FULL}
        RUN python -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir six
        """)
    out = run_image(
        built.tag,
        "sh",
        "-c",
        "readlink -f /opt/venv/bin/python; grep '^home' /opt/venv/pyvenv.cfg; "
        "/opt/venv/bin/python -c 'import sys, six; print(sys.prefix, sys.base_prefix)'",
    )
    assert out.split("\n") == ["/usr/local/bin/python3.13", "home = /usr/local/bin", "/opt/venv /usr/local"]


def test_venv_built_on_full_runs_on_slim(build):
    built = build("""
        FROM {FULL} AS builder
        RUN python -m venv /opt/venv
        ENV PATH=/opt/venv/bin:$PATH
        RUN pip install --no-cache-dir six

        FROM {SLIM}
        COPY --from=builder /opt/venv /opt/venv
        ENV PATH=/opt/venv/bin:$PATH
        """)
    out = run_image(
        built.tag, "sh", "-c", "command -v python; python -c 'import sys, six; print(sys.prefix, six.__name__)'"
    )
    assert out.split("\n") == ["/opt/venv/bin/python", "/opt/venv six"]
    assert SLIM.endswith("python:3.13-slim")
