"""The JSON report against its published schema: documents validate, and stay described."""

from __future__ import annotations

import dataclasses
import fnmatch
import json
import tomllib
from pathlib import Path

import jsonschema
import pytest

from kit.reports import json_report
from kit.reports.model import OUTCOMES, SCHEMA_VERSION, Check, Fix, Host, Result, Run, Waiver
from tests.unit.reportruns import fleet

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads(json_report.SCHEMA.read_text())
VALIDATOR = jsonschema.Draft202012Validator(
    SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)


def document() -> dict:
    return json.loads(json_report.render(fleet(4, 9)))


def test_the_schema_is_a_valid_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["properties"]["schema_version"]["const"] == SCHEMA_VERSION


def test_a_run_with_every_outcome_validates():
    doc = document()
    VALIDATOR.validate(doc)
    assert {r["outcome"] for r in doc["results"]} == set(OUTCOMES)
    waived = [r for r in doc["results"] if r["waiver"]]
    assert waived and waived[0]["waiver"]["expires"] == "2027-01-31"


@pytest.mark.parametrize(
    "spoil",
    [
        lambda d: d["results"][0].update(outcome="bogus"),
        lambda d: d["results"][0].update(waiver={"expires": None}),
        lambda d: d["results"][0].update(waiver={"justification": "", "expires": None}),
        lambda d: d["results"][0]["fixes"].append({"status": "applied", "summary": "x"}),
        lambda d: d["hosts"][0].update(verdict="green"),
        lambda d: d.pop("waivers"),
        lambda d: d.update(schema_version="2"),
    ],
    ids=["outcome", "waiver-reason", "empty-reason", "fix-diff", "verdict", "waivers", "version"],
)
def test_the_schema_rejects_what_it_does_not_describe(spoil):
    doc = document()
    spoil(doc)
    with pytest.raises(jsonschema.ValidationError):
        VALIDATOR.validate(doc)


@pytest.mark.parametrize(
    "model,where",
    [
        (Run, SCHEMA),
        (Host, SCHEMA["$defs"]["host"]),
        (Check, SCHEMA["$defs"]["check"]),
        (Result, SCHEMA["$defs"]["result"]),
        (Fix, SCHEMA["$defs"]["fix"]),
        (Waiver, SCHEMA["$defs"]["waiver"]),
    ],
)
def test_every_field_written_is_described_and_required(model, where):
    """A field added to the model without its place in the schema fails here."""
    fields = {f.name for f in dataclasses.fields(model)}
    assert fields == set(where["required"]) == set(where["properties"])


def test_the_wheel_carries_the_schema_and_the_template():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = data["tool"]["setuptools"]["package-data"]["kit"]
    kit = ROOT / "kit"
    for needed in (json_report.SCHEMA, kit / "reports" / "templates" / "report.html.j2"):
        relative = needed.relative_to(kit).as_posix()
        assert needed.is_file()
        assert any(fnmatch.fnmatch(relative, g) for g in globs), relative
