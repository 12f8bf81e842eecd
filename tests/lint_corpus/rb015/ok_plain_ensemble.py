import torch
from torch import nn


class Ensemble:
    """Averages predictions of independently trained models (not a Module)."""

    def __init__(self, n, dim):
        self.models = [nn.Linear(dim, 1) for _ in range(n)]

    @torch.no_grad()
    def predict(self, x):
        return torch.stack([m(x) for m in self.models]).mean(0)
