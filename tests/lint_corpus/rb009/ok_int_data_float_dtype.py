import torch

x = torch.tensor([1, 2, 3], dtype=torch.float64, requires_grad=True)
y = torch.tensor(4, dtype=torch.float64, requires_grad=True)
z = (x * y).sum()
