import torch

w = torch.randn(5, requires_grad=True)
opt = torch.optim.SGD([w], lr=0.1)
data = [torch.randn(5) for _ in range(10)]
for x in data:
    loss = (w * x).sum() ** 2
    loss.backward()
    opt.step()
    w.grad = None
