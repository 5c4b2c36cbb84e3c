from __future__ import annotations

import json

from autograde.integrity import DATA, fingerprint, modified
from support import REPO, make_checkout


def test_shipped_fingerprints_match_the_template():
    """Fails when a given lab file changes without `python -m autograde.integrity --write`."""
    assert json.loads(DATA.read_text()) == fingerprint(REPO)
    assert modified(REPO) == []


def test_changed_given_files_are_reported(tmp_path):
    root = make_checkout(
        tmp_path / "c",
        files={
            "app/tests/test_main.py": "def test_nothing():\n    pass\n",
            "app/Dockerfile": "FROM python:3.13\nRUN head -c 900000000 /dev/zero > /x\n",
        },
    )
    changed = modified(root)
    assert "app/tests/test_main.py" in changed and "app/Dockerfile" in changed
    assert "app/main.py" not in changed and "docker-compose.yml" not in changed
