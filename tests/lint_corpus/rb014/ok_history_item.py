import torch
from torch import nn, optim

net = nn.Linear(4, 1)
opt = optim.Adam(net.parameters(), lr=1e-2)
x, y = torch.randn(64, 4), torch.randn(64, 1)
history, losses = [], []
for it in range(200):
    opt.zero_grad()
    loss = nn.functional.mse_loss(net(x), y)
    loss.backward()
    opt.step()
    history.append(loss.item())
    losses.append(float(loss))
