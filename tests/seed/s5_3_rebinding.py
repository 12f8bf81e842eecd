import sys

import rebours as torch
import rebours.optim as optim

x = torch.tensor(1.0, requires_grad = True)
x = torch.exp(x)  # culprit
c = torch.tensor(1.0, requires_grad = True)
c = c*3
b = 5.0
y = c*x + b
print(y)
y.backward()
print(x.grad)
print(c.grad)
try:
    op = optim.SGD([x,c], lr=1.0)
except ValueError as e:
    print(f"ValueError: {str(e).splitlines()[0]}")
    print(e, file=sys.stderr)
