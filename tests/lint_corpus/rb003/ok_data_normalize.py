import torch
from torch import nn


def preprocess(x, mean, std):
    x = torch.log1p(x)
    x = (x - mean) / std
    x = x.clamp(-5, 5)
    return x


class Regressor(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.fc = nn.Linear(d, 1)

    def forward(self, x):
        h = self.fc(x)
        h = torch.tanh(h)
        return h
