import sys

import rebours as torch

a = torch.tensor(2)
b = torch.tensor(2.134)
c = torch.tensor(3.5)
c = c.type(torch.int32)
d = torch.tensor(3.1514, dtype = torch.float64)
print(a)
print(b)
print(c)
print(d)
print(a.dtype)
print(b.dtype)
print(c.dtype)
print(d.dtype)
try:
    x = torch.tensor(3.0, dtype = torch.int64, requires_grad = True)  # culprit
except RuntimeError as e:
    print(f"RuntimeError: {str(e).splitlines()[0]}")
    print(e, file=sys.stderr)
x = torch.tensor(3.0, dtype = torch.float64, requires_grad = True)
c = torch.tensor(2.0, requires_grad = True)
y = x*c
print(y)
y.backward()
print(x.grad, c.grad)
