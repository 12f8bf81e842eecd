import torch


def residual(pred_fn, n):
    target = torch.zeros(n, dtype=torch.double)
    pred = pred_fn(torch.rand(n))
    noise = torch.randn(n) * 0.01
    err = target - noise  # expect: RB010
    return err - pred
