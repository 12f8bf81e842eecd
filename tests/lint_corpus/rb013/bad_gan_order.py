import torch
from torch import nn, optim


def gan_epoch(G, D, loader, nz=64):
    bce = nn.BCEWithLogitsLoss()
    opt_d = optim.Adam(D.parameters(), lr=2e-4)
    opt_g = optim.Adam(G.parameters(), lr=2e-4)
    for real in loader:
        b = real.size(0)
        fake = G(torch.randn(b, nz))
        opt_d.zero_grad()
        loss_d = bce(D(real), torch.ones(b, 1)) + bce(D(fake.detach()), torch.zeros(b, 1))
        loss_d.backward()
        opt_d.step()
        opt_g.zero_grad()
        loss_g = bce(D(fake), torch.ones(b, 1))
        opt_g.step()  # expect: RB013
        loss_g.backward()
