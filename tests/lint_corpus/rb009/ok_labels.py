import torch
import torch.nn.functional as F

logits = torch.randn(3, 5, requires_grad=True)
labels = torch.tensor([0, 1, 2])
mask = torch.zeros(3, dtype=torch.long)
loss = F.cross_entropy(logits, labels)
loss.backward()
