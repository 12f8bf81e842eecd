import torch
import torch.nn as nn


class MixtureWeights(nn.Module):
    def __init__(self, dims):
        super().__init__()
        self.weights = nn.ParameterList([nn.Parameter(torch.randn(d)) for d in dims])
        self.scales = nn.ParameterDict({"a": nn.Parameter(torch.ones(1))})

    def forward(self, xs):
        return sum((w * x).sum() for w, x in zip(self.weights, xs))
