import torch
import torch.nn as nn


class SparseLinear(nn.Module):
    def __init__(self, d_in, d_out):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(d_out, d_in) * 0.01)
        self.bias = nn.Parameter(torch.zeros(d_out))

    def forward(self, x):
        return x @ self.weight.t() + self.bias

    @torch.no_grad()
    def renorm(self, max_norm=1.0):
        norms = self.weight.norm(dim=1, keepdim=True).clamp_min(max_norm)
        self.weight.mul_(max_norm / norms)

    def prune(self, threshold):
        self.weight[self.weight.abs() < threshold] = 0  # expect: RB005
