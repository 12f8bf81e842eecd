import torch

idx = torch.randint(0, 10, (5,))
noise = torch.randint(0, 10, (5,)).float().requires_grad_()
table = torch.randn(10, 4, requires_grad=True)
rows = table[idx] * noise[:, None]
