import torch
import torch.nn as nn
import torch.optim as optim


def train_dcgan(netG, netD, dataloader, nz=100, epochs=5):
    criterion = nn.BCELoss()
    optimizerD = optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optimizerG = optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
    for epoch in range(epochs):
        for real, _ in dataloader:
            b = real.size(0)
            netD.zero_grad()
            errD_real = criterion(netD(real).view(-1), torch.ones(b))
            errD_real.backward()
            fake = netG(torch.randn(b, nz, 1, 1))
            errD_fake = criterion(netD(fake.detach()).view(-1), torch.zeros(b))
            errD_fake.backward()
            optimizerD.step()
            netG.zero_grad()
            errG = criterion(netD(fake).view(-1), torch.ones(b))
            errG.backward()
            optimizerG.step()
