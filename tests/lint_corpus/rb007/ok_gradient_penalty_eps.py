import torch
from torch import autograd


def gradient_penalty(critic, real, fake):
    alpha = torch.rand(real.size(0), 1, device=real.device)
    mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    grads = autograd.grad(critic(mixed).sum(), mixed, create_graph=True)[0]
    grad_norm = torch.sqrt(torch.sum(grads ** 2, dim=1) + 1e-12)
    return ((grad_norm - 1) ** 2).mean()
