import torch

# freeze an embedding table, then edit it freely
table = torch.randn(100, 16, requires_grad=True)
table.requires_grad_(False)
table[0] = 0.0
table.mul_(0.5)
mask = torch.ones(16, requires_grad=True)
mask.requires_grad = False
mask += 1
