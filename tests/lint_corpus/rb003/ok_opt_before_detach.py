import torch

theta = torch.zeros(4, requires_grad=True)
opt = torch.optim.SGD([theta], lr=0.1)
A = torch.randn(32, 4)
b = torch.randn(32)
for it in range(200):
    opt.zero_grad()
    loss = ((A @ theta - b) ** 2).mean()
    loss.backward()
    opt.step()
theta = theta.detach().cpu()
print(theta)
