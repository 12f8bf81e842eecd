import torch
from torch import nn, optim


def train_gan(G, D, loader, nz=100, epochs=5):
    bce = nn.BCEWithLogitsLoss()
    opt_d = optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_g = optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    for epoch in range(epochs):
        for real, _ in loader:
            b = real.size(0)
            z = torch.randn(b, nz)
            fake = G(z)
            opt_d.zero_grad()
            loss_d = bce(D(real), torch.ones(b, 1)) + bce(D(fake.detach()), torch.zeros(b, 1))
            loss_d.backward()
            opt_d.step()
            loss_g = bce(D(fake), torch.ones(b, 1))
            loss_g.backward()
            opt_g.step()  # expect: RB012
