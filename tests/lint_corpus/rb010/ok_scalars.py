import torch

x = torch.linspace(0, 1, 10, dtype=torch.float64)
y = x * 2.0 + 1
z = torch.rand(10) * 3.0
half = torch.ones(3, dtype=torch.float16)
w = torch.ones(3, dtype=torch.float32) * half.float()
