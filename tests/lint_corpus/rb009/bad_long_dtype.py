import torch
from torch import nn


class Offsets(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.offsets = torch.zeros(n, dtype=torch.long, requires_grad=True)  # expect: RB009

    def forward(self, idx):
        return idx + self.offsets
