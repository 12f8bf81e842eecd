"""rebours.nn: Module, Parameter, layers, containers, losses, init and utils, as torch.nn.

>>> import rebours, rebours.nn as nn
>>> net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
>>> loss = nn.MSELoss()(net(rebours.randn(16, 4)), rebours.zeros(16, 1))
>>> loss.backward()
>>> [tuple(p.grad.shape) for p in net.parameters()]
[(8, 4), (8,), (1, 8), (1,)]
"""

from . import functional, init, utils
from .module import HiddenParametersWarning
from .modules import *  # noqa: F403
from .modules import __all__ as _modules_all
from .modules.rnn import GRU, LSTM, RNN, RNNBase
from .modules.rnn_cell import GRUCell, LSTMCell, RNNCell
from .parameter import Buffer, Parameter

__all__ = ["functional", "init", "utils", "Parameter", "Buffer", "HiddenParametersWarning",
           *_modules_all]
__all__ += ["RNNBase", "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"]
