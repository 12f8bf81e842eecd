"""rebours.utils: helpers on top of autograd and tensors, as `torch.utils`."""

from . import checkpoint, data

__all__ = ["checkpoint", "data"]
