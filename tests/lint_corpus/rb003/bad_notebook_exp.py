# %% Fit a positive scale by gradient descent
import torch

x = torch.tensor(0.5, requires_grad=True)
x = torch.exp(x)  # expect: RB003
target = torch.tensor(3.0)

# %%
opt = torch.optim.SGD([x], lr=0.1)
for step in range(100):
    opt.zero_grad()
    loss = (x - target) ** 2
    loss.backward()
    opt.step()
print(x)
