"""rebours.autograd: the graph, the engine, grad mode, and the functional API on top of them."""

from .anomaly import (
    detect_anomaly,
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    set_detect_anomaly,
)
from .engine import grad
from .function import Function, FunctionCtx, once_differentiable
from .grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .graph import Node

__all__ = ["backward", "grad", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode",
           "is_grad_enabled", "is_inference_mode_enabled", "Node", "gradcheck", "gradgradcheck",
           "GradcheckError", "Function", "FunctionCtx", "once_differentiable", "detect_anomaly",
           "set_detect_anomaly", "is_anomaly_enabled", "is_anomaly_check_nan_enabled"]


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate the gradients of `tensors` into the leaves, as `torch.autograd.backward`."""
    from .engine import _as_list, run

    ts = _as_list(tensors)
    gs = _as_list(grad_tensors) if grad_tensors is not None else [None] * len(ts)
    run(ts, gs, retain_graph, create_graph, inputs, accumulate=True)


from . import functional  # noqa: E402, F401  (rebours.autograd.functional, as torch)
