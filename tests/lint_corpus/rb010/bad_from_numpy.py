import numpy as np
import torch

X = torch.from_numpy(np.random.randn(100, 3))
true_w = torch.tensor([1.0, -2.0, 0.5])
w = torch.randn(3, requires_grad=True)
opt = torch.optim.SGD([w], lr=0.1)
for step in range(100):
    opt.zero_grad()
    pred = (X * w).sum(1)  # expect: RB010
    target = (X * true_w).sum(1)  # expect: RB010
    loss = ((pred - target) ** 2).mean()
    loss.backward()
    opt.step()
