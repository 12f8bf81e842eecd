import sys

import rebours as torch

x = torch.tensor(3.0, requires_grad = True)
c = torch.tensor(2.0)
c += 2.0
print(c)
try:
    x += 2.0  # culprit
except RuntimeError as e:
    print(f"RuntimeError: {str(e).splitlines()[0]}")
    print(e, file=sys.stderr)
print(x)
y = x + c
print(y)
