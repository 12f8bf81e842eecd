"""Recurrent layers over whole sequences: RNN, LSTM and GRU, stacked and bidirectional, as torch.

Each layer and direction projects its whole input sequence once (x W_ihᵀ + b_ih), then loops
over the time steps in Python with a step rule from rnn_cell.py; the reverse direction walks
the steps backwards. Parameter names, shapes, init, the order of h_n's rows
(layer × direction) and the shapes of every output are torch's.

>>> import rebours, rebours.nn as nn
>>> lstm = nn.LSTM(4, 8, num_layers=2, batch_first=True)
>>> out, (h, c) = lstm(rebours.ones(3, 5, 4))
>>> lstm, out.shape, h.shape
(LSTM(4, 8, num_layers=2, batch_first=True), rebours.Size([3, 5, 8]), rebours.Size([2, 3, 8]))
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable
from typing import Any, Optional

from ...factories import empty, zeros
from ...functions import cat, stack
from ...tensor import Tensor
from .. import init
from ..module import Module
from ..parameter import Parameter
from .dropout import dropout as _dropout
from .linear import linear
from .rnn_cell import State, gru_step, lstm_step, rnn_relu_step, rnn_tanh_step

__all__ = ["RNNBase", "RNN", "LSTM", "GRU"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}
_STEPS: dict[str, Callable[..., State]] = {
    "LSTM": lstm_step, "GRU": gru_step, "RNN_TANH": rnn_tanh_step, "RNN_RELU": rnn_relu_step}


def _check_args(input_size: Any, hidden_size: Any, num_layers: int, bias: Any,
                batch_first: Any, dropout: Any, proj_size: int) -> None:
    """torch's constructor checks, with its messages."""
    if (not isinstance(dropout, numbers.Number) or isinstance(dropout, bool)
            or not 0 <= dropout <= 1):  # type: ignore[operator]
        raise ValueError("dropout should be a number in range [0, 1] representing the "
                         "probability of an element being zeroed")
    if dropout > 0 and num_layers == 1:  # type: ignore[operator]
        warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                      "non-zero dropout expects num_layers greater than 1, but got "
                      f"dropout={dropout} and num_layers={num_layers}", stacklevel=4)
    for name, value, kind in (("bias", bias, bool), ("batch_first", batch_first, bool),
                              ("input_size", input_size, int),
                              ("hidden_size", hidden_size, int)):
        if not isinstance(value, kind):
            raise TypeError(f"{name} should be of type {kind.__name__}, got: "
                            f"{type(value).__name__}")
        if kind is int and value <= 0:
            raise ValueError(f"{name} must be greater than zero")
    if num_layers <= 0:
        raise ValueError("num_layers must be greater than zero")
    if proj_size < 0:
        raise ValueError("proj_size should be a positive integer or zero to disable projections")
    if proj_size >= hidden_size:
        raise ValueError("proj_size has to be smaller than hidden_size")


class RNNBase(Module):
    """The shared part of RNN, LSTM and GRU: parameters per layer and direction
    (`weight_ih_l{k}`, `weight_hh_l{k}`, `bias_ih_l{k}`, `bias_hh_l{k}`, `weight_hr_l{k}` with a
    projection; `_reverse` for the backward direction), init U(-1/√hidden, 1/√hidden), and the
    loop over layers, directions and time steps."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        _check_args(input_size, hidden_size, num_layers, bias, batch_first, dropout, proj_size)
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        dirs = 2 if bidirectional else 1
        real_hidden = proj_size if proj_size > 0 else hidden_size
        gate_size = _GATES[mode] * hidden_size
        self._flat_weights_names: list[str] = []
        self._all_weights: list[list[str]] = []
        for layer in range(num_layers):
            for direction in range(dirs):
                in_size = input_size if layer == 0 else real_hidden * dirs
                shapes = {"weight_ih": (gate_size, in_size), "weight_hh": (gate_size, real_hidden)}
                if bias:
                    shapes.update(bias_ih=(gate_size,), bias_hh=(gate_size,))
                if proj_size > 0:
                    shapes["weight_hr"] = (proj_size, hidden_size)
                suffix = "_reverse" if direction == 1 else ""
                names = []
                for kind, shape in shapes.items():
                    names.append(f"{kind}_l{layer}{suffix}")
                    setattr(self, names[-1], Parameter(empty(shape, device=device, dtype=dtype)))
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    @property
    def _flat_weights(self) -> list[Optional[Tensor]]:
        return [getattr(self, name, None) for name in self._flat_weights_names]

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """The parameters, one list per layer and direction, in torch's order."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def flatten_parameters(self) -> None:
        """A no-op, as torch's on CPU (it packs weights for cuDNN)."""

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # -- forward ----------------------------------------------------------------------------

    def _state_sizes(self) -> tuple[int, ...]:
        return (self.hidden_size,)

    def _check_state(self, hx: State, batched: bool) -> None:
        """torch's dimension check of an initial state given with a 2-D or 3-D input."""
        want = 3 if batched else 2
        if hx[0].dim() != want:
            kind = "batched 3-D" if batched else "unbatched 2-D"
            raise RuntimeError(f"For {kind} input, hx should also be {want}-D but got "
                               f"{hx[0].dim()}-D tensor")

    def _check_sizes(self, x: Tensor, hx: State) -> None:
        weight = self._flat_weights[0]
        if weight is not None and x.dtype != weight.dtype:
            raise ValueError(f"RNN input dtype ({x.dtype}) does not match weight dtype "
                             f"({weight.dtype}). Convert input: input.to({weight.dtype}), or "
                             f"convert model: model.to({x.dtype})")
        if x.size(-1) != self.input_size:
            raise RuntimeError("input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {x.size(-1)}")
        rows = self.num_layers * (2 if self.bidirectional else 1)
        for k, (h, size) in enumerate(zip(hx, self._state_sizes())):
            expected = (rows, x.size(1), size)
            if tuple(h.shape) != expected:
                which = "hidden" if len(hx) == 1 else f"hidden[{k}]"
                raise RuntimeError(f"Expected {which} size {expected}, got {list(h.shape)}")

    def _scan(self, x: Tensor, state: State, layer: int, reverse: bool) -> tuple[Tensor, State]:
        """One layer in one direction over x (L, N, features): (outputs (L, N, ·), last state)."""
        suffix = "_reverse" if reverse else ""
        w_ih, b_ih, w_hh, b_hh, w_hr = (getattr(self, f"{kind}_l{layer}{suffix}", None) for kind
                                        in ("weight_ih", "bias_ih", "weight_hh", "bias_hh",
                                            "weight_hr"))
        step = _STEPS[self.mode]
        gi = linear(x, w_ih, b_ih).unbind(0)  # the input's share of the gates, all steps at once
        hs: list[Any] = [None] * len(gi)
        for t in (reversed(range(len(gi))) if reverse else range(len(gi))):
            state = step(gi[t], state, w_hh, b_hh, w_hr)
            hs[t] = state[0]
        return stack(hs), state

    def _run(self, input: Tensor, hx: Optional[State]) -> tuple[Tensor, State]:
        """Checks, then layers × directions × steps; returns (output, final states)."""
        name = "RNN" if self.mode.startswith("RNN") else self.mode
        if isinstance(input, tuple):
            raise NotImplementedError(f"{name}: PackedSequence input is not supported by "
                                      "rebours; pad the batch and pass a tensor")
        if input.dim() not in (2, 3):
            tail = " tensor" if name == "RNN" else ""
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}D"
                             f"{tail} instead")
        batched = input.dim() == 3
        batch_dim = 0 if self.batch_first else 1
        x = input if batched else input.unsqueeze(batch_dim)
        if self.batch_first:
            x = x.transpose(0, 1)  # time-major from here on: (L, N, features)
        if hx is None:
            rows = self.num_layers * (2 if self.bidirectional else 1)
            hx = tuple(zeros(rows, x.size(1), size, dtype=x.dtype, device=x.device)
                       for size in self._state_sizes())
        else:
            self._check_state(hx, batched)
            hx = hx if batched else tuple(h.unsqueeze(1) for h in hx)
        self._check_sizes(x, hx)
        dirs = 2 if self.bidirectional else 1
        finals: list[State] = []
        for layer in range(self.num_layers):
            outs = []
            for direction in range(dirs):
                k = layer * dirs + direction
                out, state = self._scan(x, tuple(h[k] for h in hx), layer, direction == 1)
                outs.append(out)
                finals.append(state)
            x = outs[0] if len(outs) == 1 else cat(outs, -1)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                x = _dropout(x, self.dropout, True)
        output = x.transpose(0, 1) if self.batch_first else x
        h_n = tuple(stack([s[k] for s in finals]) for k in range(len(hx)))
        if not batched:
            output = output.squeeze(batch_dim)
            h_n = tuple(h.squeeze(1) for h in h_n)
        return output, h_n


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh) per layer (relu with
    `nonlinearity='relu'`). Input (L, N, input_size) (batch_first: (N, L, ·)) or (L, input_size);
    returns (output (L, N, D·hidden), h_n (D·num_layers, N, hidden)), D = 2 if bidirectional.

    >>> import rebours, rebours.nn as nn
    >>> rnn = nn.RNN(3, 4, 2, nonlinearity="relu", bidirectional=True)
    >>> out, h = rnn(rebours.ones(6, 3))
    >>> out.shape, h.shape
    (rebours.Size([6, 8]), rebours.Size([4, 4]))
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.__dict__["nonlinearity"] = args[3]
            args = args[:3] + args[4:]
        else:
            self.__dict__["nonlinearity"] = kwargs.pop("nonlinearity", "tanh")
        modes = {"tanh": "RNN_TANH", "relu": "RNN_RELU"}
        if self.nonlinearity not in modes:
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' "
                             "or 'relu'.")
        super().__init__(modes[self.nonlinearity], *args, **kwargs)

    def forward(self, input: Tensor, hx: Optional[Tensor] = None) -> tuple[Tensor, Tensor]:
        output, (h_n,) = self._run(input, None if hx is None else (hx,))
        return output, h_n


class LSTM(RNNBase):
    """LSTM: per step, gates i, f, g, o = σ, σ, tanh, σ of (x W_ihᵀ + b_ih + h W_hhᵀ + b_hh),
    c_t = f c_{t-1} + i g, h_t = o tanh(c_t), then h_t W_hrᵀ when `proj_size > 0`. Returns
    (output, (h_n, c_n)); h has proj_size features when projecting, c has hidden_size.

    >>> import rebours, rebours.nn as nn
    >>> lstm = nn.LSTM(3, 4, proj_size=2)
    >>> out, (h, c) = lstm(rebours.ones(5, 7, 3))
    >>> out.shape, h.shape, c.shape
    (rebours.Size([5, 7, 2]), rebours.Size([1, 7, 2]), rebours.Size([1, 7, 4]))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device, dtype)

    def _state_sizes(self) -> tuple[int, ...]:
        return (self.proj_size or self.hidden_size, self.hidden_size)

    def _check_state(self, hx: State, batched: bool) -> None:
        want = 3 if batched else 2
        if hx[0].dim() != want or hx[1].dim() != want:
            kind = "batched 3-D" if batched else "unbatched 2-D"
            raise RuntimeError(f"For {kind} input, hx and cx should also be {want}-D but got "
                               f"({hx[0].dim()}-D, {hx[1].dim()}-D) tensors")

    def forward(self, input: Tensor, hx: Optional[tuple[Tensor, Tensor]] = None
                ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        output, (h_n, c_n) = self._run(input, None if hx is None else tuple(hx))
        return output, (h_n, c_n)


class GRU(RNNBase):
    """GRU: per step r, z = σ(x W_iᵀ + b_i + h W_hᵀ + b_h), n = tanh(x W_inᵀ + b_in +
    r (h W_hnᵀ + b_hn)), h_t = (1 - z) n + z h_{t-1}; gates in torch's order r, z, n.

    >>> import rebours, rebours.nn as nn
    >>> gru = nn.GRU(3, 4, batch_first=True)
    >>> out, h = gru(rebours.ones(2, 5, 3), rebours.zeros(1, 2, 4))
    >>> out.shape, h.shape
    (rebours.Size([2, 5, 4]), rebours.Size([1, 2, 4]))
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)

    def forward(self, input: Tensor, hx: Optional[Tensor] = None) -> tuple[Tensor, Tensor]:
        output, (h_n,) = self._run(input, None if hx is None else (hx,))
        return output, h_n

