"""Magnitude pruning with fixed masks, for fine-tuning after pruning.

Each pruned matrix keeps its ``round((1 - sparsity) * size)`` largest-magnitude entries (ties
broken by position, so the count is exact) and the rest are set to zero and held there through
fine-tuning by re-applying the mask after every optimiser step.
"""

from __future__ import annotations

import torch
from torch import nn


def magnitude_mask(weight: torch.Tensor, sparsity: float) -> torch.Tensor:
    """Boolean mask keeping the largest-magnitude ``1 - sparsity`` fraction of ``weight``."""
    if not 0.0 <= sparsity < 1.0:
        raise ValueError(f"pruning: sparsity must lie in [0, 1), got {sparsity}")
    n = weight.numel()
    keep = int(round((1.0 - sparsity) * n))
    order = torch.argsort(weight.detach().abs().flatten(), descending=True, stable=True)
    mask = torch.zeros(n, dtype=torch.bool, device=weight.device)
    mask[order[:keep]] = True
    return mask.view_as(weight)


class Pruner:
    """Prunes named parameters of a module to one sparsity and keeps them pruned.

    Parameters
    ----------
    module
        The model.
    names
        Parameter names (as in ``module.named_parameters()``) to prune, each on its own.
    sparsity
        Fraction of each matrix set to zero.
    """

    def __init__(self, module: nn.Module, names: list[str], sparsity: float) -> None:
        params = dict(module.named_parameters())
        unknown = [n for n in names if n not in params]
        if unknown:
            raise KeyError(f"pruning: no parameters {unknown} in {type(module).__name__}")
        self.params = {n: params[n] for n in names}
        self.masks = {n: magnitude_mask(p, sparsity) for n, p in self.params.items()}
        self.apply()

    @torch.no_grad()
    def apply(self) -> None:
        """Zero the pruned entries (call after every optimiser step)."""
        for name, p in self.params.items():
            p.mul_(self.masks[name])

    def sparsity(self) -> dict[str, float]:
        """Measured fraction of exact zeros per pruned parameter."""
        return {n: float((p == 0).float().mean()) for n, p in self.params.items()}
