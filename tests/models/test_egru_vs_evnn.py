"""The models' PyTorch EGRU against EvNN (evnn-pytorch 0.2.0, its pure-PyTorch path).

Same weights, thresholds and inputs: the forward outputs and events must be equal, and the
gradients of a loss on the outputs (through EvNN's pseudo-derivative) must agree, so that
training here is training as EvNN does it.
"""

from __future__ import annotations

import pytest

TORCH_REASON = ("torch is not installed; the model tests need the `models` extra "
                "(pip install -e '.[models]', torch==2.13.0 CPU; scripts/setup.sh does it)")

torch = pytest.importorskip("torch", reason=TORCH_REASON)

from models.egru_torch import EGRU  # noqa: E402


def _pair(evnn, n_in, n_hidden, seed):
    torch.manual_seed(seed)
    ref = evnn.EGRU(n_in, n_hidden, use_custom_cuda=False).double()
    with torch.no_grad():
        ref.bias.normal_(0.0, 0.3)
        ref.recurrent_bias.normal_(0.0, 0.3)
    ours = EGRU(n_in, n_hidden).double()
    # EvNN keeps these as float32 tensors (0.7 becomes 0.699999988...): take the same values.
    ours.dampening_factor = float(ref.dampening_factor)
    ours.pseudo_derivative_support = float(ref.pseudo_derivative_support)
    with torch.no_grad():
        for name in ("kernel", "recurrent_kernel", "bias", "recurrent_bias", "thr"):
            getattr(ours, name).copy_(getattr(ref, name))
    return ref, ours


@pytest.mark.parametrize("seed", [0, 1])
def test_forward_equals_evnn(evnn, seed):
    ref, ours = _pair(evnn, 7, 11, seed)
    x = torch.randn(40, 3, 7, dtype=torch.float64, generator=torch.Generator().manual_seed(9))
    ref.eval()
    ours.eval()
    with torch.no_grad():
        y_ref, (c_ref, o_ref, _) = ref(x)
        y, e, _ = ours(x)
    torch.testing.assert_close(e, o_ref, rtol=0, atol=0)
    torch.testing.assert_close(y, y_ref, rtol=1e-12, atol=1e-12)
    assert 0.05 < float(e.mean()) < 0.95


def test_gradients_equal_evnn(evnn):
    """Backward through the Heaviside uses EvNN's dampening * max(0, 1 - support |v|)."""
    ref, ours = _pair(evnn, 5, 9, 3)
    x = torch.randn(30, 2, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    target = torch.randn(30, 2, 9, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    ref.train()  # EvNN's dropout and zoneout default to 0: training changes nothing else
    ours.train()
    y_ref, _ = ref(x)
    ((y_ref - target) ** 2).sum().backward()
    y, _, _ = ours(x)
    ((y - target) ** 2).sum().backward()
    for name in ("kernel", "recurrent_kernel", "bias", "recurrent_bias", "thr"):
        g_ref, g = getattr(ref, name).grad, getattr(ours, name).grad
        assert float(g_ref.abs().max()) > 0, name
        torch.testing.assert_close(g, g_ref, rtol=1e-9, atol=1e-12, msg=name)
