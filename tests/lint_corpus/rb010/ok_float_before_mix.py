import numpy as np
import torch

X = torch.from_numpy(np.random.randn(100, 3)).float()
Y = torch.from_numpy(np.random.randn(100).astype(np.float32))
w = torch.randn(3, requires_grad=True)
pred = (X * w).sum(1)
loss = ((pred - Y) ** 2).mean()
