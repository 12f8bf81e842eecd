import torch

# %%
idx = torch.randint(0, 10, (5,))
idx.requires_grad_()  # expect: RB009
table = torch.randn(10, 4, requires_grad=True)
rows = table[idx]
