import torch

counts = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
weights = torch.tensor([0.2, 0.3, 0.5], requires_grad=True)
expected = (counts * weights).sum()
expected.backward()
