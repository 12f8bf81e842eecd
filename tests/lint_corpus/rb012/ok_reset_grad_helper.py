# %% GAN training with a helper that clears both optimizers
import torch
import torch.nn as nn

G = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 784), nn.Tanh())
D = nn.Sequential(nn.Linear(784, 256), nn.LeakyReLU(0.2), nn.Linear(256, 1), nn.Sigmoid())
criterion = nn.BCELoss()
d_optimizer = torch.optim.Adam(D.parameters(), lr=2e-4)
g_optimizer = torch.optim.Adam(G.parameters(), lr=2e-4)


def reset_grad():
    d_optimizer.zero_grad()
    g_optimizer.zero_grad()


# %%
for epoch in range(20):
    for images in torch.randn(100, 32, 784).unbind(0):
        ones, zeros = torch.ones(32, 1), torch.zeros(32, 1)
        d_loss = criterion(D(images), ones) + criterion(D(G(torch.randn(32, 64))), zeros)
        reset_grad()
        d_loss.backward()
        d_optimizer.step()
        g_loss = criterion(D(G(torch.randn(32, 64))), ones)
        reset_grad()
        g_loss.backward()
        g_optimizer.step()
