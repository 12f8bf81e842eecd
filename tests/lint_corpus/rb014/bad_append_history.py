# %%
import torch as T
from torch import nn, optim

net = nn.Sequential(nn.Linear(1, 32), nn.ReLU(), nn.Linear(32, 1))
opt = optim.Adam(net.parameters(), lr=1e-2)
x = T.linspace(-1, 1, 128)[:, None]
y = T.sin(3 * x)
history = []

# %%
for it in range(2000):
    opt.zero_grad()
    loss = ((net(x) - y) ** 2).mean()
    loss.backward()
    opt.step()
    history.append(loss)  # expect: RB014
