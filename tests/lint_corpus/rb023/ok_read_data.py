import torch

w = torch.randn(3, requires_grad=True)
norm = w.data.norm()
arr = w.data.cpu().numpy()
snapshot = w.data.clone()
y = w.data * 2
