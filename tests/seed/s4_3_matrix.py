import sys

import rebours as torch

x = torch.ones(2,3, requires_grad = True)
c = torch.ones(2,3, requires_grad = True)
y = torch.exp(x)*(c*3) + torch.exp(x)
print(torch.exp(x))
print(c*3)
print(y)
try:
    y.backward()  # culprit
except RuntimeError as e:
    print(f"RuntimeError: {str(e).splitlines()[0]}")
    print(e, file=sys.stderr)
s = torch.sum(y)
print(s)
s.backward()
print(x.grad)
print(c.grad)
