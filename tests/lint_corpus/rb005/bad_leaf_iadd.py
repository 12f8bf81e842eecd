# %%
import torch

bias = torch.tensor(3.0, requires_grad=True)
scale = torch.tensor(2.0, requires_grad=True)

# %% shift the starting point a little
bias += 2.0  # expect: RB005

# %%
y = scale * bias
y.backward()
print(bias.grad, scale.grad)
