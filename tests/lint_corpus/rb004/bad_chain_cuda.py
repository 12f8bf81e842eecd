import torch

X = torch.randn(1000, 10).cuda()
y = torch.randn(1000, 1).cuda()
w = torch.randn(10, 1, requires_grad=True).cuda()  # expect: RB004
b = torch.zeros(1, device="cuda", requires_grad=True)
opt = torch.optim.SGD([w, b], lr=0.01)
for epoch in range(50):
    opt.zero_grad()
    loss = ((X @ w + b - y) ** 2).mean()
    loss.backward()
    opt.step()
