import torch
from torch import nn


class Block(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.ff = nn.Linear(dim, dim)

    def forward(self, x):
        return x + self.ff(self.norm(x))


class Encoder(nn.Module):
    def __init__(self, dim, n_blocks):
        super().__init__()
        self.blocks = []  # expect: RB015
        for _ in range(n_blocks):
            self.blocks.append(Block(dim))

    def forward(self, x):
        for blk in self.blocks:
            x = blk(x)
        return torch.tanh(x)
