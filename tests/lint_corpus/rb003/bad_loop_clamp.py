import torch
from torch import optim

z = torch.zeros(16, requires_grad=True)
opt = optim.Adam([z], lr=1e-2)
decoder = torch.nn.Linear(16, 784)
target = torch.rand(784)
for it in range(500):
    opt.zero_grad()
    recon = torch.sigmoid(decoder(z))
    loss = torch.nn.functional.binary_cross_entropy(recon, target)
    loss.backward()
    opt.step()
    z = z.clamp(-3, 3)  # expect: RB003
    if it % 100 == 0:
        print(it, loss.item(), z.grad.norm().item())
