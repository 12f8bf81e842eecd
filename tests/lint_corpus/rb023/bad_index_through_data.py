import torch
from torch import nn


class Frozen(nn.Module):
    def __init__(self, d_in, d_out):
        super().__init__()
        self.fc = nn.Linear(d_in, d_out)
        self.fc.weight.data[:, 0] = 0  # expect: RB023

    def forward(self, x):
        return torch.relu(self.fc(x))
