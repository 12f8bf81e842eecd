import torch

x = torch.randn(8, 3)
x = x.to("cuda")
x.requires_grad_()
y = (x ** 2).sum()
y.backward()
print(x.grad)
