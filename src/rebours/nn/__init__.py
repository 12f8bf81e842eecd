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
from .modules.attention import MultiheadAttention  # noqa: E402
from .modules.conv import (  # noqa: E402
    Conv1d,
    Conv2d,
    Conv3d,
    ConvTranspose1d,
    ConvTranspose2d,
    ConvTranspose3d,
)
from .modules.normalization import (  # noqa: E402
    BatchNorm1d,
    BatchNorm2d,
    BatchNorm3d,
    GroupNorm,
    LayerNorm,
)
from .modules.pooling import (  # noqa: E402
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AdaptiveAvgPool3d,
    AdaptiveMaxPool1d,
    AdaptiveMaxPool2d,
    AdaptiveMaxPool3d,
    AvgPool1d,
    AvgPool2d,
    AvgPool3d,
    MaxPool1d,
    MaxPool2d,
    MaxPool3d,
)
from .modules.sparse import Embedding  # noqa: E402
from .modules.transformer import (  # noqa: E402
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)

__all__ += ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d",
            "MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d",
            "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d",
            "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "BatchNorm1d", "BatchNorm2d",
            "BatchNorm3d", "LayerNorm", "GroupNorm", "Embedding", "MultiheadAttention",
            "Transformer", "TransformerEncoder", "TransformerDecoder", "TransformerEncoderLayer",
            "TransformerDecoderLayer"]
from . import parallel  # noqa: E402, F401  (rebours.nn.parallel, as torch.nn.parallel)
