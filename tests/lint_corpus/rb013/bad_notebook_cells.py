# %%
import torch
from torch import nn

model = nn.Linear(10, 1)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
x, y = torch.randn(64, 10), torch.randn(64, 1)

# %% one manual step
optimizer.zero_grad()
loss = nn.functional.mse_loss(model(x), y)
optimizer.step()  # expect: RB013
loss.backward()
print(loss.item())
