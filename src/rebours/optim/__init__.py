"""rebours.optim: optimizers that update parameters from their `.grad`, as `torch.optim`.

>>> import rebours, rebours.optim
>>> w = rebours.tensor(3.0, requires_grad=True)
>>> opt = rebours.optim.SGD([w], lr=0.25)
>>> (w * w).backward(); opt.step(); w
tensor(1.5000, requires_grad=True)
"""

from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam
from .adamw import AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "SGD", "lr_scheduler"]
