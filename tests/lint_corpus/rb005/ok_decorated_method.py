import torch
from torch import nn


class Codebook(nn.Module):
    def __init__(self, n, dim):
        super().__init__()
        self.embed = nn.Parameter(torch.randn(n, dim))

    @torch.no_grad()
    def reset_dead(self, usage, samples):
        dead = usage < 1e-3
        self.embed[dead] = samples[: int(dead.sum())]
        self.embed.clamp_(-1.0, 1.0)

    @torch.inference_mode()
    def normalize(self):
        self.embed.div_(self.embed.norm(dim=1, keepdim=True))
