import torch
from torch.autograd import gradcheck

x = torch.randn(4, 3, requires_grad=True)
x = x.double().detach().requires_grad_()
print(gradcheck(torch.sin, (x,)))
