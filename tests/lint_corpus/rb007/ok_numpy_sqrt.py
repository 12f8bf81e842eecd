import numpy as np
import torch


def to_unit_tensor(arr):
    arr = arr / np.sqrt(np.sum(arr ** 2))
    return torch.from_numpy(arr).float()
