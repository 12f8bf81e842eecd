"""Parameters as one flat vector and back, as torch.nn.utils (e.g. for second-order methods).

>>> import rebours, rebours.nn as nn
>>> fc = nn.Linear(3, 2)
>>> v = nn.utils.parameters_to_vector(fc.parameters()); v.shape
rebours.Size([8])
>>> nn.utils.vector_to_parameters(rebours.zeros(8), fc.parameters()); fc.bias
Parameter containing:
tensor([0., 0.], requires_grad=True)
"""

from __future__ import annotations

from collections.abc import Iterable

from ...tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _check_same_device(p: Tensor, device: object) -> object:
    if device is None:
        return p.device
    if p.device != device:
        raise TypeError("Found two parameters on different devices, this is currently not "
                        "supported.")
    return device


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """One 1-D tensor holding every parameter, flattened, in order (differentiable)."""
    from ... import cat

    device = None
    vec = []
    for p in parameters:
        device = _check_same_device(p, device)
        vec.append(p.reshape(-1))
    return cat(vec)


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of `vec` into the parameters' data (their `.data` is replaced)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    device = None
    pointer = 0
    for p in parameters:
        device = _check_same_device(p, device)
        n = p.numel()
        p.data = vec[pointer:pointer + n].view_as(p).data
        pointer += n
