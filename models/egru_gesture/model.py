"""EGRU gesture classifier: binned event frames in, class logits out.

The input at each time step is one frame (2 polarities x H x W, binary by default: one input
spike per active pixel). The readout averages the last layer's graded output y over all steps
and applies a linear layer (on the host): ``logits = mean_t(y_t) @ W.T + b``.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from models.egru_torch import EGRU, egru_arrays


class EGRUClassifier(nn.Module):
    """Stacked EGRU layers over (T, N, D) frames and a linear readout of the mean output."""

    def __init__(self, input_size: int, hidden_sizes: tuple[int, ...], n_classes: int, *,
                 dropout: float = 0.0, thr_mean: float = 0.3) -> None:
        super().__init__()
        self.hidden_sizes = tuple(hidden_sizes)
        sizes = (input_size, *hidden_sizes)
        self.layers = nn.ModuleList(EGRU(sizes[i], sizes[i + 1], thr_mean=thr_mean)
                                    for i in range(len(hidden_sizes)))
        self.dropout = dropout
        self.readout = nn.Linear(hidden_sizes[-1], n_classes)

    def forward(self, frames: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Logits (N, C) and each layer's events (T, N, H), from zero state."""
        h, events = frames, []
        for layer in self.layers:
            h, e, _ = layer(h)
            events.append(e)
            h = F.dropout(h, self.dropout, self.training)
        return self.readout(h.mean(dim=0)), events

    def arrays(self) -> dict:
        """Parameters under the names of :mod:`models.weights`."""
        return egru_arrays(self.layers, self.readout)
