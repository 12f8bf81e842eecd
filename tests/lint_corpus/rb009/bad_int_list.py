import torch

counts = torch.tensor([1, 2, 3], requires_grad=True)  # expect: RB009
weights = torch.tensor([0.2, 0.3, 0.5], requires_grad=True)
expected = (counts * weights).sum()
