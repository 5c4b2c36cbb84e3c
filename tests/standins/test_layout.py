"""Layout facts of the base images, as the official images have them.

python:3.13 and python:3.13-slim (docker-library/python, Debian trixie): CPython built into
/usr/local, `python`/`pip` names there first on PATH, the `posix_prefix` scheme with
site-packages under /usr/local/lib/python3.13, the official environment and default command;
the full image has a C tool chain and system headers, slim has neither (both keep CPython's own
headers under /usr/local/include, as the official slim image does). redis:alpine: redis-server
and redis-cli on PATH, default command, port, working directory, and a server that other
containers reach without a password (the official build turns protected mode off).
"""

from __future__ import annotations

import json
import subprocess

import pytest
from standin_support import FULL, REDIS, SLIM, base_images, run  # noqa: F401  (fixtures)
from standin_support import docker_cli as _docker

from support import unique_project

pytestmark = pytest.mark.docker

OFFICIAL_PATH = "/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

PROBE = """
import json, os, shutil, site, sys, sysconfig
print(json.dumps({
    "executable": sys.executable, "realpath": os.path.realpath(sys.executable),
    "prefix": sys.prefix, "base_prefix": sys.base_prefix, "version": list(sys.version_info[:2]),
    "scheme": sysconfig.get_default_scheme(), "purelib": sysconfig.get_path("purelib"),
    "platlib": sysconfig.get_path("platlib"), "include": sysconfig.get_path("include"),
    "site": site.getsitepackages(), "user_site": site.getusersitepackages(),
    "which": {n: shutil.which(n) for n in ("python", "python3", "pip", "pip3", "gcc", "cc")},
    "shared": sysconfig.get_config_var("Py_ENABLE_SHARED"),
}))
"""

MODULES = "ssl sqlite3 ctypes zlib bz2 lzma readline dbm.gnu dbm.ndbm uuid decimal curses hashlib _ssl venv ensurepip"


def inspect(image: str) -> dict:
    done = _docker("image", "inspect", image)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)[0]


@pytest.fixture(scope="module")
def probes(base_images):
    out = {}
    for image in (FULL, SLIM):
        done = _docker("run", "--rm", image, "python", "-c", PROBE)
        assert done.returncode == 0, done.stderr
        out[image] = json.loads(done.stdout)
    return out


@pytest.mark.parametrize("image", [FULL, SLIM])
def test_python_config_is_the_official_one(base_images, image):
    config = inspect(image)["Config"]
    env = dict(e.split("=", 1) for e in config["Env"])
    assert env["PATH"] == OFFICIAL_PATH
    assert env["PYTHON_VERSION"].startswith("3.13.")
    assert env["GPG_KEY"] == "7169605F62C751356D054A26A821E680E5FA6305"
    assert len(env["PYTHON_SHA256"]) == 64
    assert config["Cmd"] == ["python3"]
    assert not config.get("Entrypoint")
    # pip behind a TLS-inspecting proxy: the CA bundle the stand-ins carry (harmless elsewhere)
    assert env.get("PIP_CERT", "/etc/ssl/certs/ca-certificates.crt") == "/etc/ssl/certs/ca-certificates.crt"


@pytest.mark.parametrize("image", [FULL, SLIM])
def test_cpython_lives_in_usr_local(probes, image):
    p = probes[image]
    assert p["executable"] == "/usr/local/bin/python"
    assert p["realpath"] == "/usr/local/bin/python3.13"
    assert p["prefix"] == p["base_prefix"] == "/usr/local"
    assert p["version"] == [3, 13]
    assert p["scheme"] == "posix_prefix"
    assert p["purelib"] == p["platlib"] == "/usr/local/lib/python3.13/site-packages"
    assert p["site"] == ["/usr/local/lib/python3.13/site-packages"]
    assert p["user_site"] == "/root/.local/lib/python3.13/site-packages"
    assert p["include"] == "/usr/local/include/python3.13"
    assert p["shared"] == 1  # --enable-shared, libpython3.13.so in /usr/local/lib
    for name in ("python", "python3", "pip", "pip3"):
        assert p["which"][name] == f"/usr/local/bin/{name}"


@pytest.mark.parametrize("image", [FULL, SLIM])
def test_names_and_symlinks(run, image):
    script = (
        "set -e; cd /usr/local/bin; "
        "for n in python python3 python3.13 pip pip3 pip3.13 pydoc pydoc3 idle idle3 python-config python3-config; do "
        "  test -e $n || { echo missing $n; exit 1; }; done; "
        "readlink python; readlink python3; readlink pip; readlink python-config; "
        "test -f /usr/local/lib/libpython3.13.so.1.0; "
        "test -d /usr/local/lib/python3.13/site-packages/pip; "
        "test ! -e /usr/local/lib/python3.13/EXTERNALLY-MANAGED; "
        "! ls /usr/local/lib/libpython*.a 2>/dev/null; "
        "test -z \"$(find /usr/local -name '*.pyc' -print -quit)\"; "
        "test ! -e /usr/local/lib/python3.13/test; "
        "pip --version"
    )
    done = run(image, "sh", "-c", script)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.split("\n")
    assert lines[:4] == ["python3", "python3.13", "pip3", "python3-config"]
    assert "/usr/local/lib/python3.13/site-packages/pip" in lines[4] and "(python 3.13)" in lines[4]


@pytest.mark.parametrize("image", [FULL, SLIM])
def test_standard_library_modules_load(run, image):
    done = run(image, "python", "-c", f"import {', '.join(MODULES.split())}; import ssl; print(ssl.OPENSSL_VERSION)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("OpenSSL 3.")


def test_full_has_a_tool_chain_and_headers(run, probes):
    assert probes[FULL]["which"]["gcc"] == "/usr/bin/gcc"
    # A C extension compiled against /usr/local's headers imports in the same image.
    script = (
        "set -e; cd /tmp; "
        'printf \'#include <Python.h>\\nstatic struct PyModuleDef m = {PyModuleDef_HEAD_INIT, "cext"};\\n'
        "PyMODINIT_FUNC PyInit_cext(void) { return PyModule_Create(&m); }\\n' > cext.c; "
        "gcc -shared -fPIC $(python3-config --includes) cext.c -o cext$(python3-config --extension-suffix); "
        "test -f /usr/include/stdio.h; git --version >/dev/null; curl --version >/dev/null; "
        "python -c 'import cext, tkinter; print(cext.__file__)'"
    )
    done = run(FULL, "sh", "-c", script)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().startswith("/tmp/cext.cpython-313-")


def test_slim_has_no_tool_chain_nor_system_headers(run, probes):
    assert probes[SLIM]["which"]["gcc"] is None and probes[SLIM]["which"]["cc"] is None
    done = run(
        SLIM,
        "sh",
        "-c",
        "test ! -e /usr/include/stdio.h && test -f /usr/local/include/python3.13/Python.h "
        "&& ! command -v git && ! command -v curl && echo ok",
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stdout + done.stderr


def test_slim_is_much_smaller_than_full(base_images):
    full, slim = inspect(FULL)["Size"], inspect(SLIM)["Size"]
    # official python:3.13-trixie / python:3.13-slim-trixie on disk: ~1.11 GB / ~126 MB (8.8x)
    assert 7.0 <= full / slim <= 11.0, (full, slim)


def test_redis_config_is_the_official_one(base_images):
    config = inspect(REDIS)["Config"]
    assert config["Cmd"] == ["redis-server"]
    assert config["Entrypoint"] == ["docker-entrypoint.sh"]
    assert "6379/tcp" in config["ExposedPorts"]
    assert config["WorkingDir"] == "/data"
    assert "/data" in (config.get("Volumes") or {})


def test_redis_binaries_on_path(run):
    done = run(REDIS, "sh", "-c", "command -v redis-server; command -v redis-cli; pwd", entrypoint="")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["/usr/local/bin/redis-server", "/usr/local/bin/redis-cli", "/data"]


def test_redis_answers_other_containers_without_a_password(base_images):
    name = unique_project("standin-redis")
    net = f"{name}-net"
    try:
        assert _docker("network", "create", "--label", "org.autograde.test-run", net).returncode == 0
        started = _docker("run", "-d", "--name", name, "--network", net, "--label", "org.autograde.test-run", REDIS)
        assert started.returncode == 0, started.stderr
        answer = ""
        for _ in range(50):
            ping = _docker("run", "--rm", "--network", net, REDIS, "redis-cli", "-h", name, "ping")
            answer = ping.stdout.strip()
            if answer == "PONG":
                break
        assert answer == "PONG"
        mode = _docker(
            "run", "--rm", "--network", net, REDIS, "redis-cli", "-h", name, "config", "get", "protected-mode"
        )
        assert mode.stdout.split() == ["protected-mode", "no"]
        user = _docker("exec", name, "sh", "-c", "stat -c %U /proc/1")
        assert user.stdout.strip() == "redis"  # the entry point drops root, as the official one
    finally:
        _docker("rm", "-f", "-v", name)
        _docker("network", "rm", net)
    assert _docker("container", "inspect", name).returncode != 0
    assert subprocess.run(["docker", "network", "inspect", net], capture_output=True).returncode != 0
