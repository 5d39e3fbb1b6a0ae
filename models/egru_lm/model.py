"""The character language models: stacked EGRU layers, and the LSTM baseline.

Input is the one-hot character: the embedding is folded into layer 0's input kernel (its row
``token`` is the token's projection), so on the chip the input is a spike source of one spike
per character. The readout is a linear layer from the last layer's graded output ``y`` to the
logits; softmax and the loss run on the host.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from models.egru_torch import EGRU, egru_arrays, egru_param_count, lstm_param_count

State = list[tuple[torch.Tensor, torch.Tensor]]


class EGRULanguageModel(nn.Module):
    """Stacked EGRU layers and a linear readout.

    Parameters
    ----------
    vocab_size
        Characters (one-hot input and output classes).
    hidden_sizes
        Units per EGRU layer.
    dropout
        Dropout on each layer's output y in training (between layers and before the readout).
    dropconnect
        DropConnect on the recurrent kernels in training.
    thr_mean
        Mean initial threshold (EvNN default 0.3).
    """

    def __init__(self, vocab_size: int, hidden_sizes: tuple[int, ...], *, dropout: float = 0.0,
                 dropconnect: float = 0.0, thr_mean: float = 0.3) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        self.hidden_sizes = tuple(hidden_sizes)
        sizes = (vocab_size, *hidden_sizes)
        self.layers = nn.ModuleList(
            EGRU(sizes[i], sizes[i + 1], dropconnect=dropconnect, thr_mean=thr_mean)
            for i in range(len(hidden_sizes)))
        self.dropout = dropout
        self.readout = nn.Linear(hidden_sizes[-1], vocab_size)

    def forward(self, tokens: torch.Tensor, state: State | None = None,
                ) -> tuple[torch.Tensor, list[torch.Tensor], State]:
        """Logits (T, N, V), each layer's events (T, N, H), final state per layer."""
        h = tokens
        events, new_state = [], []
        for i, layer in enumerate(self.layers):
            h, e, s = layer(h, None if state is None else state[i])
            events.append(e)
            new_state.append(s)
            h = F.dropout(h, self.dropout, self.training)
        return self.readout(h), events, new_state

    def prunable(self) -> list[str]:
        """The matrices that go on the chip: every layer's kernel and recurrent kernel."""
        return [f"layers.{i}.{n}" for i in range(len(self.layers))
                for n in ("kernel", "recurrent_kernel")]

    def arrays(self) -> dict[str, np.ndarray]:
        """Parameters under the names of :mod:`models.weights`."""
        return egru_arrays(self.layers, self.readout)

    def load_arrays(self, arrays: dict) -> None:
        """Inverse of :meth:`arrays`."""
        with torch.no_grad():
            for i, layer in enumerate(self.layers):
                for n in ("kernel", "recurrent_kernel", "bias", "recurrent_bias", "thr"):
                    getattr(layer, n).copy_(torch.as_tensor(arrays[f"egru{i}.{n}"]))
            self.readout.weight.copy_(torch.as_tensor(arrays["readout.weight"]))
            self.readout.bias.copy_(torch.as_tensor(arrays["readout.bias"]))


class LSTMLanguageModel(nn.Module):
    """``torch.nn.LSTM`` on one-hot characters and a linear readout (the baseline)."""

    def __init__(self, vocab_size: int, hidden_size: int, n_layers: int, *,
                 dropout: float = 0.0) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        self.lstm = nn.LSTM(vocab_size, hidden_size, n_layers,
                            dropout=dropout if n_layers > 1 else 0.0)
        self.dropout = dropout
        self.readout = nn.Linear(hidden_size, vocab_size)

    def forward(self, tokens: torch.Tensor, state=None):
        x = F.one_hot(tokens, self.vocab_size).to(self.readout.weight.dtype)
        h, state = self.lstm(x, state)
        return self.readout(F.dropout(h, self.dropout, self.training)), [], state


def egru_lm_params(vocab_size: int, hidden_sizes: tuple[int, ...]) -> int:
    """Parameters of :class:`EGRULanguageModel` (layers and readout)."""
    sizes = (vocab_size, *hidden_sizes)
    layers = sum(egru_param_count(sizes[i], sizes[i + 1]) for i in range(len(hidden_sizes)))
    return layers + hidden_sizes[-1] * vocab_size + vocab_size


def lstm_lm_params(vocab_size: int, hidden_size: int, n_layers: int) -> int:
    """Parameters of :class:`LSTMLanguageModel`."""
    sizes = (vocab_size,) + (hidden_size,) * n_layers
    layers = sum(lstm_param_count(sizes[i], hidden_size) for i in range(n_layers))
    return layers + hidden_size * vocab_size + vocab_size


def matched_lstm_hidden(vocab_size: int, hidden_sizes: tuple[int, ...]) -> int:
    """LSTM width (same number of layers) whose parameter count is closest to the EGRU's."""
    target = egru_lm_params(vocab_size, hidden_sizes)
    n = len(hidden_sizes)
    return min(range(1, 4 * max(hidden_sizes)),
               key=lambda h: abs(lstm_lm_params(vocab_size, h, n) - target))
