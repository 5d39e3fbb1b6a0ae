"""Print the gesture model's results table (Markdown) from the results files of ``train``.

    python -m models.egru_gesture.report

Reads ``results/full*.json``: one row per run, ordered by activity regularisation weight.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent


def table(runs: list[tuple[str, dict]]) -> str:
    lines = ["| run | activity weight | test accuracy | activity sparsity | events per "
             "recording | training time |", "|---|---|---|---|---|---|"]
    for name, r in sorted(runs, key=lambda item: item[1]["config"].get("activity_weight", 0)):
        test = r["test"]
        lines.append(f"| `{name}` | {r['config'].get('activity_weight', 0.0):g} | "
                     f"{test['accuracy']:.1%} ({test['samples']}) | "
                     f"{test['activity_sparsity']:.1%} | {test['events_per_sample']:.0f} | "
                     f"{r['train_seconds']:.0f} s |")
    return "\n".join(lines)


def main() -> None:
    runs = [(p.name, json.loads(p.read_text()))
            for p in sorted((HERE / "results").glob("full*.json"))]
    print(table(runs))
    print(f"\nchance: {runs[0][1]['chance']:.0%}")


if __name__ == "__main__":
    main()
