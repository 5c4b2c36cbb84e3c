"""Helpers for the tests of the base images the lab names (python:3.13, python:3.13-slim,
redis:alpine) as this engine holds them: on machines without a registry these are the stand-ins
scripts/standin-images.sh builds, and they must behave as the official images do.

The images under test are the real tags. STANDIN_REPO_PREFIX (the script's own knob, e.g.
"wip/") points the tests at stand-ins built under other names, to try a new recipe before it
replaces the tags other people grade against.
"""
from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass


PREFIX = os.environ.get("STANDIN_REPO_PREFIX", "")
FULL = f"{PREFIX}python:3.13"
SLIM = f"{PREFIX}python:3.13-slim"
REDIS = f"{PREFIX}redis:alpine"
RUN_LABEL = "org.autograde.test-run"


@dataclass
class Built:
    tag: str
    output: str


def docker_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
