"""rebours.utils: helpers on top of autograd and tensors, as `torch.utils`."""

from . import checkpoint, data, malloc

__all__ = ["checkpoint", "data", "malloc"]
