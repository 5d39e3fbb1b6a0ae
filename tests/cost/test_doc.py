"""doc/cost_model.md shows the tables the code computes today."""

from __future__ import annotations

from pathlib import Path

import pytest

from pynn_spinnaker2.cost import DEFAULT_CONSTANTS
from pynn_spinnaker2.cost.seed_egru import (
    breakdown_markdown,
    calibration_markdown,
    sensitivity_markdown,
)

DOC = Path(__file__).resolve().parents[2] / "doc" / "cost_model.md"


@pytest.mark.parametrize("table", [calibration_markdown, sensitivity_markdown,
                                   breakdown_markdown])
def test_calibration_tables_match_the_code(table) -> None:
    assert table() in DOC.read_text(), (
        f"doc/cost_model.md is out of date: paste the output of "
        f"`python -m pynn_spinnaker2.cost.seed_egru` ({table.__name__})")


def test_every_constant_is_documented() -> None:
    text = DOC.read_text()
    for name, constant in DEFAULT_CONSTANTS.constants().items():
        row = next((line for line in text.splitlines() if line.startswith(f"| `{name}` |")),
                   None)
        assert row is not None, f"{name} missing from the constants table of the doc"
        assert f"| {constant.status} |" in row, f"{name}: status differs from the code"
