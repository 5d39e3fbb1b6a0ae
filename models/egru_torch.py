"""The EGRU layer in PyTorch, computing exactly what EvNN (evnn-pytorch 0.2.0) computes.

Per unit and step, with input ``x_t`` and the previous graded output ``y_{t-1}`` (the output,
not the internal state, is fed back)::

    u  = sigmoid(x W_u + b_u + y W'_u + b'_u)          keep gate (EvNN's z)
    r  = sigmoid(x W_r + b_r + y W'_r + b'_r)          reset gate
    g  = tanh(x W_g + b_g + r * (y W'_g + b'_g))       candidate (reset after the product)
    c^ = u * c_{t-1} + (1 - u) * g                     pre-reset state
    e  = H(c^ - theta)                                 event, strictly above theta
    y_t = e * c^                                       graded output (pre-reset value)
    c_t = c^ - e * theta                               reset by subtraction

Training goes through the Heaviside with EvNN's pseudo-derivative
``dampening * max(0, 1 - support * |c^ - theta|)``. Weight layout as EvNN stores it: ``kernel``
(input, 3H), ``recurrent_kernel`` (H, 3H), ``bias`` (3H), ``recurrent_bias`` (3H), gate
blocks in the order [u | r | g], and ``thr`` (H), clamped to [0, 1] before every forward
pass as EvNN does.

Where this differs from EvNN's ``EGRU`` (see the model READMEs):

- the state (c, y) can be passed in and is returned, so that a long text is run as one
  continuous stream (truncated back-propagation through time in training, a continuous run at
  evaluation as on the chip); EvNN restarts the internal state c at zero on every call and
  takes only y_0 as ``state``. With no state passed, both start at zero as in EvNN;
- no zoneout (EvNN's pure-PyTorch path gets zoneout at inference wrong: it computes
  ``p c + (1 - p) c``; its C++ path computes ``p c + (1 - p) c^``) and no smoothed trace output;
- DropConnect on the recurrent kernel (EvNN's ``dropout``) is supported as in EvNN, only in
  training.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class SpikeFunction(torch.autograd.Function):
    """Heaviside step (``H(0) = 0``) with EvNN's triangular pseudo-derivative."""

    @staticmethod
    def forward(ctx, v: torch.Tensor, dampening: float, support: float) -> torch.Tensor:
        ctx.save_for_backward(v)
        ctx.dampening = dampening
        ctx.support = support
        return (v > 0).to(v.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (v,) = ctx.saved_tensors
        pseudo = ctx.dampening * torch.clamp(1.0 - ctx.support * v.abs(), min=0.0)
        return grad * pseudo, None, None


class EGRU(nn.Module):
    """One EGRU layer, sequence-first: input (T, N, I), output (T, N, H).

    Parameters
    ----------
    input_size, hidden_size
        Sizes of x and of the layer.
    dropconnect
        DropConnect probability on the recurrent kernel, in training only (EvNN's ``dropout``).
    dampening_factor, pseudo_derivative_support
        Pseudo-derivative of the event (EvNN defaults 0.7 and 1.0).
    thr_mean
        Mean of the Beta(alpha, 3) distribution the thresholds are drawn from (EvNN: 0.3).
    """

    def __init__(self, input_size: int, hidden_size: int, *, dropconnect: float = 0.0,
                 dampening_factor: float = 0.7, pseudo_derivative_support: float = 1.0,
                 thr_mean: float = 0.3) -> None:
        super().__init__()
        if not 0.0 < thr_mean < 1.0:
            raise ValueError(f"EGRU: thr_mean must lie in (0, 1), got {thr_mean}")
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.dropconnect = dropconnect
        self.dampening_factor = dampening_factor
        self.pseudo_derivative_support = pseudo_derivative_support
        self.kernel = nn.Parameter(torch.empty(input_size, 3 * hidden_size))
        self.recurrent_kernel = nn.Parameter(torch.empty(hidden_size, 3 * hidden_size))
        self.bias = nn.Parameter(torch.zeros(3 * hidden_size))
        self.recurrent_bias = nn.Parameter(torch.zeros(3 * hidden_size))
        nn.init.xavier_normal_(self.kernel)
        nn.init.xavier_normal_(self.recurrent_kernel)
        beta = 3.0
        alpha = beta * thr_mean / (1.0 - thr_mean)
        self.thr = nn.Parameter(
            torch.distributions.Beta(alpha, beta).sample(torch.Size([hidden_size])))

    def zero_state(self, batch: int, like: torch.Tensor,
                   ) -> tuple[torch.Tensor, torch.Tensor]:
        """(c, y) both zero, as EvNN starts."""
        z = like.new_zeros(batch, self.hidden_size)
        return z, z.clone()

    def forward(self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None = None,
                ) -> tuple[torch.Tensor, torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """Run the layer over a sequence.

        Returns
        -------
        y
            Graded outputs (T, N, H).
        events
            Event flags e in {0, 1} (T, N, H).
        state
            Final (c, y), to continue the stream.
        """
        with torch.no_grad():
            self.thr.clamp_(0.0, 1.0)
        c, y = self.zero_state(x.shape[1], self.kernel) if state is None else state
        recurrent = self.recurrent_kernel
        if self.training and self.dropconnect > 0.0:
            recurrent = F.dropout(recurrent, self.dropconnect, training=True)
        # Integer input means one-hot tokens: a row lookup equals the one-hot product exactly.
        projected = self.kernel[x] if not x.is_floating_point() else x @ self.kernel
        wx = torch.chunk(projected + self.bias, 3, dim=-1)
        ys, es = [], []
        for t in range(x.shape[0]):
            rh = torch.chunk(y @ recurrent + self.recurrent_bias, 3, dim=-1)
            u = torch.sigmoid(wx[0][t] + rh[0])
            r = torch.sigmoid(wx[1][t] + rh[1])
            g = torch.tanh(wx[2][t] + r * rh[2])
            c_hat = u * c + (1.0 - u) * g
            e = SpikeFunction.apply(c_hat - self.thr, self.dampening_factor,
                                    self.pseudo_derivative_support)
            y = e * c_hat
            c = c_hat - e * self.thr
            ys.append(y)
            es.append(e)
        return torch.stack(ys), torch.stack(es), (c, y)


def egru_param_count(input_size: int, hidden_size: int) -> int:
    """Parameters of one EGRU layer: kernels, both biases and the thresholds."""
    return 3 * hidden_size * (input_size + hidden_size) + 6 * hidden_size + hidden_size


def lstm_param_count(input_size: int, hidden_size: int) -> int:
    """Parameters of one ``torch.nn.LSTM`` layer (two bias vectors, as PyTorch has)."""
    return 4 * hidden_size * (input_size + hidden_size) + 8 * hidden_size


def egru_arrays(layers: object, readout: object) -> dict:
    """The parameters of stacked EGRU ``layers`` and a linear ``readout`` under the names of
    :mod:`models.weights` (float32 NumPy arrays)."""
    out = {}
    for i, layer in enumerate(layers):
        for n in ("kernel", "recurrent_kernel", "bias", "recurrent_bias"):
            out[f"egru{i}.{n}"] = getattr(layer, n).detach().cpu().numpy()
        # what the forward pass uses: EvNN clamps the thresholds before every pass
        out[f"egru{i}.thr"] = layer.thr.detach().clamp(0.0, 1.0).cpu().numpy()
    out["readout.weight"] = readout.weight.detach().cpu().numpy()
    out["readout.bias"] = readout.bias.detach().cpu().numpy()
    return out
