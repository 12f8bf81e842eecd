import sys

import rebours as torch

x = torch.tensor([10.0,20.0,30.0], requires_grad = True)
c = torch.tensor([1.0,2.0,3.0], requires_grad = True)
try:
    x[0] = c[0]*x[0]  # culprit
except RuntimeError as e:
    print(f"RuntimeError: {str(e).splitlines()[0]}")
    print(e, file=sys.stderr)

x = torch.tensor([10.0,20.0,30.0], requires_grad = True)
c = torch.tensor([1.0,2.0,3.0], requires_grad = True)
w = torch.zeros(3)

w[0] = c[0]*x[0]
w[1] = c[1]*x[1]
w[2] = c[2]*x[2]
y = torch.sum(w)
print(y)
y.backward()
print(x.grad)
print(c.grad)
