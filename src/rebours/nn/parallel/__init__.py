"""rebours.nn.parallel: DistributedDataParallel, as `torch.nn.parallel`.

>>> from rebours.nn.parallel import DistributedDataParallel
>>> DistributedDataParallel.__name__
'DistributedDataParallel'
"""

from .distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
