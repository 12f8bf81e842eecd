"""rebours.optim: optimizers that update parameters from their `.grad`, as `torch.optim`.

>>> import rebours, rebours.optim
>>> w = rebours.tensor(3.0, requires_grad=True)
>>> opt = rebours.optim.SGD([w], lr=0.25)
>>> (w * w).backward(); opt.step(); w
tensor(1.5000, requires_grad=True)
"""

from .adam import Adam
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["Adam", "Optimizer", "SGD"]
