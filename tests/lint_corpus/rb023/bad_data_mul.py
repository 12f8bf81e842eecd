import torch

w = torch.ones(3, requires_grad=True)
y = (w * w).sum()
w.data.mul_(2)  # expect: RB023
y.backward()
print(w.grad)
