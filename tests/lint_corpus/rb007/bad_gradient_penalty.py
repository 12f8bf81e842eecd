import torch
from torch import autograd


def gradient_penalty(critic, real, fake):
    alpha = torch.rand(real.size(0), 1, device=real.device)
    mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    scores = critic(mixed)
    grads = autograd.grad(scores.sum(), mixed, create_graph=True)[0]
    grads = grads.view(grads.size(0), -1)
    grad_norm = (grads ** 2).sum(dim=1) ** 0.5  # expect: RB007
    return ((grad_norm - 1) ** 2).mean()
