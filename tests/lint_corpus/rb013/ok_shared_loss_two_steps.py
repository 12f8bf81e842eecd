import torch


def train_cycle(G_AB, G_BA, D_A, D_B, loader, n_critic=5):
    opt_G = torch.optim.Adam(list(G_AB.parameters()) + list(G_BA.parameters()), lr=1e-4)
    opt_D_A = torch.optim.Adam(D_A.parameters(), lr=1e-4)
    opt_D_B = torch.optim.Adam(D_B.parameters(), lr=1e-4)
    for i, (a, b) in enumerate(loader):
        opt_D_A.zero_grad()
        opt_D_B.zero_grad()
        fake_a, fake_b = G_BA(b).detach(), G_AB(a).detach()
        d_loss = D_A(fake_a).mean() - D_A(a).mean() + D_B(fake_b).mean() - D_B(b).mean()
        d_loss.backward()
        opt_D_A.step()
        opt_D_B.step()
        if i % n_critic == 0:
            opt_G.zero_grad()
            g_loss = -D_A(G_BA(b)).mean() - D_B(G_AB(a)).mean()
            g_loss.backward()
            opt_G.step()
