"""One recurrent step: the Elman, LSTM and GRU update rules, and the cell modules built on them.

The step functions take the input's gates already projected (`gi = x W_ihᵀ + b_ih`), so the
sequence modules in rnn.py project a whole sequence with one matmul, as torch does on CPU; the
cells project one step. Gate orders are torch's (LSTM: i, f, g, o; GRU: r, z, n), so torch's
weights load unchanged.

>>> import rebours, rebours.nn as nn
>>> cell = nn.GRUCell(3, 5)
>>> cell(rebours.ones(2, 3)).shape, cell.weight_ih.shape
(rebours.Size([2, 5]), rebours.Size([15, 3]))
"""

from __future__ import annotations

import math
from typing import Any, Optional

from ...factories import empty, zeros
from ...tensor import Tensor
from .. import init
from ..module import Module
from ..parameter import Parameter
from .linear import linear

__all__ = ["RNNCell", "LSTMCell", "GRUCell"]

State = tuple[Tensor, ...]  # (h,) for RNN and GRU, (h, c) for LSTM


def rnn_tanh_step(gi: Tensor, state: State, w_hh: Tensor, b_hh: Optional[Tensor],
                  w_hr: Optional[Tensor] = None) -> State:
    """h' = tanh(gi + h W_hhᵀ + b_hh)."""
    return ((linear(state[0], w_hh, b_hh) + gi).tanh(),)


def rnn_relu_step(gi: Tensor, state: State, w_hh: Tensor, b_hh: Optional[Tensor],
                  w_hr: Optional[Tensor] = None) -> State:
    """h' = relu(gi + h W_hhᵀ + b_hh)."""
    return ((linear(state[0], w_hh, b_hh) + gi).relu(),)


def lstm_step(gi: Tensor, state: State, w_hh: Tensor, b_hh: Optional[Tensor],
              w_hr: Optional[Tensor] = None) -> State:
    """c' = f c + i g, h' = o tanh(c') (then h' W_hrᵀ with a projection), gates i, f, g, o."""
    h, c = state
    i, f, g, o = (linear(h, w_hh, b_hh) + gi).chunk(4, -1)
    c = f.sigmoid() * c + i.sigmoid() * g.tanh()
    h = o.sigmoid() * c.tanh()
    return (h if w_hr is None else linear(h, w_hr), c)


def gru_step(gi: Tensor, state: State, w_hh: Tensor, b_hh: Optional[Tensor],
             w_hr: Optional[Tensor] = None) -> State:
    """r, z = σ(·), n = tanh(gi_n + r (h W_hnᵀ + b_hn)), h' = (1 - z) n + z h."""
    h = state[0]
    i_r, i_z, i_n = gi.chunk(3, -1)
    h_r, h_z, h_n = linear(h, w_hh, b_hh).chunk(3, -1)
    r, z = (h_r + i_r).sigmoid(), (h_z + i_z).sigmoid()
    n = (i_n + h_n * r).tanh()
    return ((h - n) * z + n,)  # torch's form of (1 - z) n + z h: same rounding


class RNNCellBase(Module):
    """weight_ih (k·hidden, input), weight_hh (k·hidden, hidden), bias_ih, bias_hh (k·hidden),
    all U(-1/√hidden, 1/√hidden) as torch, for k gates."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        size = num_chunks * hidden_size
        self.weight_ih = Parameter(empty((size, input_size), device=device, dtype=dtype))
        self.weight_hh = Parameter(empty((size, hidden_size), device=device, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(empty(size, device=device, dtype=dtype))
            self.bias_hh = Parameter(empty(size, device=device, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _cell(self, step: Any, input: Tensor, hx: Optional[State], name: str,
              hidden: str) -> State:
        """Check dims, add the batch dim of a 1-D input, run one step, drop the dim again."""
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D "
                             "instead")
        for idx, h in enumerate(hx or ()):
            if h.dim() not in (1, 2):
                which = hidden if len(hx or ()) == 1 else f"hx[{idx}]"
                raise ValueError(f"{name}: Expected {which} to be 1D or 2D, got {h.dim()}D "
                                 "instead")
        batched = input.dim() == 2
        x = input if batched else input.unsqueeze(0)
        if hx is None:
            h0 = zeros(x.size(0), self.hidden_size, dtype=x.dtype, device=x.device)
            hx = (h0,) * (2 if step is lstm_step else 1)
        elif not batched:
            hx = tuple(h.unsqueeze(0) for h in hx)
        out = step(linear(x, self.weight_ih, self.bias_ih), hx, self.weight_hh, self.bias_hh)
        return out if batched else tuple(h.squeeze(0) for h in out)


class RNNCell(RNNCellBase):
    """An Elman cell: h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh) (relu with
    `nonlinearity='relu'`); input (N, input_size) or (input_size,), h (N, hidden) or (hidden,).

    >>> import rebours, rebours.nn as nn
    >>> cell = nn.RNNCell(4, 2, nonlinearity="relu")
    >>> cell, cell(rebours.ones(4)).shape
    (RNNCell(4, 2, nonlinearity=relu), rebours.Size([2]))
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device: Any = None, dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Optional[Tensor] = None) -> Tensor:
        steps = {"tanh": rnn_tanh_step, "relu": rnn_relu_step}
        if self.nonlinearity not in steps:
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        state = None if hx is None else (hx,)
        return self._cell(steps[self.nonlinearity], input, state, "RNNCell", "hidden")[0]


class LSTMCell(RNNCellBase):
    """An LSTM cell: gates i, f, g, o = σ, σ, tanh, σ of (x W_ihᵀ + b_ih + h W_hhᵀ + b_hh);
    c' = f c + i g, h' = o tanh(c'). Returns (h', c').

    >>> import rebours, rebours.nn as nn
    >>> h, c = nn.LSTMCell(3, 2)(rebours.ones(5, 3))
    >>> h.shape, c.shape
    (rebours.Size([5, 2]), rebours.Size([5, 2]))
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input: Tensor, hx: Optional[tuple[Tensor, Tensor]] = None
                ) -> tuple[Tensor, Tensor]:
        h, c = self._cell(lstm_step, input, None if hx is None else tuple(hx), "LSTMCell", "hx")
        return h, c


class GRUCell(RNNCellBase):
    """A GRU cell: r, z = σ(x W_iᵀ + b_i + h W_hᵀ + b_h), n = tanh(x W_inᵀ + b_in +
    r (h W_hnᵀ + b_hn)), h' = (1 - z) n + z h.

    >>> import rebours, rebours.nn as nn
    >>> nn.GRUCell(3, 2, bias=False)
    GRUCell(3, 2, bias=False)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input: Tensor, hx: Optional[Tensor] = None) -> Tensor:
        state = None if hx is None else (hx,)
        return self._cell(gru_step, input, state, "GRUCell", "hidden")[0]
