"""Messages for a GitHub Actions log: an `::error::` annotation when running on a runner.

The class workflow's steps run `grade-all`; an annotation puts the reason for a red job on the
run's summary page instead of only "Process completed with exit code 2".
"""

from __future__ import annotations

import os
import sys


def _escape(text: str, *, prop: bool = False) -> str:
    # GitHub's workflow command escaping (data: % CR LF; properties also : and ,)
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def annotate(title: str, message: str, level: str = "error") -> None:
    """Print an annotation (on stderr, which the runner reads like stdout) when on GitHub Actions."""
    if os.environ.get("GITHUB_ACTIONS") == "true":
        print(f"::{level} title={_escape(title, prop=True)}::{_escape(message)}", file=sys.stderr, flush=True)
