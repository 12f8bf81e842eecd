import torch
from torch import nn


class Rescale(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, feats):
        scale = torch.ones(1).double()
        bias = torch.zeros(self.dim)
        out = feats * scale
        return out + bias  # expect: RB010
