"""The run as one JSON document; its shape is schema/report-v1.json."""

from __future__ import annotations

import json
from pathlib import Path

from kit.reports.model import Run

SCHEMA = Path(__file__).parent / "schema" / "report-v1.json"


def render(run: Run) -> str:
    return json.dumps(run.to_dict(), indent=2, ensure_ascii=False) + "\n"
