import torch as T


def learnable_mask(n):
    return T.ones(n, dtype=T.bool, requires_grad=True)  # expect: RB009
