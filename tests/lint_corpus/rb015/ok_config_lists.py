import torch.nn as nn


class UNetConfig(nn.Module):
    def __init__(self, sizes=(64, 128, 256)):
        super().__init__()
        self.sizes = [64, 128, 256]
        self.names = {"down": "encoder", "up": "decoder"}
        self.history = []
        self.proj = nn.Linear(sizes[0], sizes[-1])

    def forward(self, x):
        self.history.append(x.shape)
        return self.proj(x)
