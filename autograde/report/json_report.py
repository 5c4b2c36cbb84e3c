from __future__ import annotations

import json
from pathlib import Path

from autograde.results import GradingResults


def write(results: GradingResults, path: str | Path) -> None:
    Path(path).write_text(json.dumps(results.to_dict(), indent=2) + "\n", encoding="utf-8")
