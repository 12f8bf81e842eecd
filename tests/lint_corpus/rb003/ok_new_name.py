import torch

x = torch.tensor(0.5, requires_grad=True)
ex = torch.exp(x)
target = torch.tensor(3.0)
opt = torch.optim.SGD([x], lr=0.1)
for step in range(100):
    opt.zero_grad()
    ex = torch.exp(x)
    loss = (ex - target) ** 2
    loss.backward()
    opt.step()
print(x.grad, ex)
