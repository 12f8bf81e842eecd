import torch

x = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
c = torch.tensor(2.0, requires_grad=True)
y = x * c  # expect: RB010
y.backward()
