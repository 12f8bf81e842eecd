import sys

import rebours as torch

# The seed's version-counter failure, as PyTorch 2.13 shows it on a non-leaf copy of x.
x = torch.tensor([10.0,20.0,30.0], requires_grad = True)
c = torch.tensor([1.0,2.0,3.0], requires_grad = True)
h = x * 1
p = c * h
h[0] = 0.0  # culprit
y = torch.sum(p)
try:
    y.backward()
except RuntimeError as e:
    print(f"RuntimeError: {str(e).splitlines()[0][:80]}")
    print(e, file=sys.stderr)
