import torch


def init_latent(batch, dim, device):
    z = torch.randn(batch, dim).to(device).requires_grad_()
    u = torch.rand(batch, device=device).double().requires_grad_(True)
    return z, u
