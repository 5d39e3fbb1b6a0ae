"""Print the language model's results table (Markdown) from a results file of ``train``.

    python -m models.egru_lm.report [--config full]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _row(name: str, params: int, weights_zero: str, m: dict) -> str:
    test, valid, prefix = m["test"], m["valid"], m["test_prefix"]
    sparsity = (f"{test['activity_sparsity']:.1%} ({test['events_per_char']:.1f})"
                if "activity_sparsity" in test else "n/a (dense)")
    return (f"| {name} | {params:,} | {weights_zero} | {valid['perplexity']:.3f} | "
            f"{test['perplexity']:.3f} | {test['bits_per_char']:.3f} | "
            f"{prefix['perplexity']:.3f} | {sparsity} |")


def egru_params(results: dict) -> int:
    """The EGRU's parameter count, computed from the configuration."""
    from models.egru_lm.model import egru_lm_params

    return egru_lm_params(results["data"]["vocabulary_size"],
                          tuple(results["config"]["hidden_sizes"]))


def table(results: dict) -> str:
    """The Markdown table of every model in ``results``."""
    lines = ["| model | parameters | weights pruned | valid ppl | test ppl | test bits/char | "
             "test prefix ppl | activity sparsity (events/char) |",
             "|---|---|---|---|---|---|---|---|"]
    egru, lstm = results.get("egru"), results.get("lstm")
    if lstm:
        lines.append(_row(f"LSTM {lstm['layers']} x {lstm['hidden_size']}",
                          lstm["parameters"], "0 %", lstm["dense"]))
    if egru:
        hidden = results["config"]["hidden_sizes"]
        sizes = (f"{len(hidden)} x {hidden[0]}" if len(set(hidden)) == 1
                 else "/".join(str(h) for h in hidden))
        params = egru_params(results)
        lines.append(_row(f"EGRU {sizes}", params, "0 %", egru["dense"]))
        for level in egru["pruned"]:
            lines.append(_row(f"EGRU {sizes}, pruned + fine-tuned", params,
                              f"{level['sparsity']:.0%}", level["after_fine_tuning"]))
    return "\n".join(lines)


def pruning_table(results: dict) -> str:
    """Validation perplexity right after pruning and after fine-tuning, per level."""
    lines = ["| pruned | valid ppl just pruned | valid ppl fine-tuned | fine-tuning steps |",
             "|---|---|---|---|"]
    for level in results["egru"]["pruned"]:
        steps = level.get("fine_tune_steps", results["config"]["prune_steps"])
        lines.append(f"| {level['sparsity']:.0%} | "
                     f"{level['before_fine_tuning']['valid']['perplexity']:.3f} | "
                     f"{level['after_fine_tuning']['valid']['perplexity']:.3f} | {steps} |")
    return "\n".join(lines)


def collect(config: str, results_dir: Path = HERE / "results") -> dict:
    """``<config>.json`` with the EGRU stage files (``--stage evaluate / prune``) merged in."""
    results = json.loads((results_dir / f"{config}.json").read_text())
    egru = results.setdefault("egru", {})
    dense = results_dir / f"{config}_egru_dense.json"
    if "dense" not in egru and dense.exists():
        egru.update(json.loads(dense.read_text()))
    if not egru.get("pruned"):
        files = sorted(results_dir.glob(f"{config}_egru_pruned*.json"))
        egru["pruned"] = sorted((json.loads(f.read_text()) for f in files),
                                key=lambda level: level["sparsity"])
    if "dense" not in egru:
        del results["egru"]
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="full")
    args = parser.parse_args(argv)
    results = collect(args.config)
    print(table(results))
    if "egru" in results and results["egru"]["pruned"]:
        print()
        print(pruning_table(results))


if __name__ == "__main__":
    main()
