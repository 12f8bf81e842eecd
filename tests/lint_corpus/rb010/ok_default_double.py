import torch

torch.set_default_dtype(torch.float64)
x = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
w = torch.randn(3, requires_grad=True)
y = (x * w).sum()
y.backward()
