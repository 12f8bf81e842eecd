import torch

idx = torch.arange(5)
w = torch.randn(5, requires_grad=True)
y = idx * w
z = torch.ones(5, dtype=torch.int64) + w
