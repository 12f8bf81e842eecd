import torch
from torch import nn


class Bias(nn.Module):
    def __init__(self, dim, device=None):
        super().__init__()
        self.b = nn.Parameter(torch.zeros(dim).to(device))
        self.g = nn.Parameter(torch.ones(dim, device=device))

    def forward(self, x):
        return x * self.g + self.b
