import numpy as np
import torch


def load_counts(path):
    data = np.load(path)
    counts = torch.tensor(data, dtype=torch.int32)
    counts.requires_grad = True  # expect: RB009
    return counts
