import torch


def l2_penalty(params, weight=1e-4):
    total = 0.0
    for p in params:
        total = total + torch.sqrt(torch.sum(p ** 2))  # expect: RB007
    return weight * total
