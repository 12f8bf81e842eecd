"""The layer classes, by family; `rebours.nn` re-exports them all."""

from ..module import Module
from .activation import (
    CELU,
    ELU,
    GELU,
    SELU,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LeakyReLU,
    LogSigmoid,
    LogSoftmax,
    Mish,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Softmin,
    Softplus,
    Tanh,
)
from .container import ModuleDict, ModuleList, Sequential
from .dropout import Dropout
from .flatten import Flatten, Unflatten
from .linear import Bilinear, Identity, Linear
from .loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from .parameter_containers import ParameterDict, ParameterList

__all__ = ["Module", "Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict",
           "Identity", "Linear", "Bilinear", "Flatten", "Unflatten", "Dropout",
           "ReLU", "ReLU6", "Sigmoid", "Tanh", "GELU", "SiLU", "Mish", "ELU", "CELU", "SELU",
           "LeakyReLU", "Hardtanh", "Hardsigmoid", "Hardswish", "LogSigmoid", "Softplus",
           "Softmax", "LogSoftmax", "Softmin", "MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss",
           "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss", "KLDivLoss"]
