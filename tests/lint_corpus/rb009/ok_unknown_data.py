import numpy as np
import torch


def from_array(arr: np.ndarray):
    t = torch.tensor(arr, requires_grad=True)
    u = torch.as_tensor(arr, dtype=torch.float32)
    u.requires_grad = True
    return t, u
