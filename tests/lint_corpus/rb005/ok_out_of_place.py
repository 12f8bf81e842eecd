import torch

x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
x2 = x + 2.0
h = x2 * 3
h.relu_()
buf = torch.zeros(3)
buf[0] = 1.0
buf += h.detach()
h.sum().backward()
print(x.grad)
