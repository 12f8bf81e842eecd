import sys

import rebours as torch

# The seed mixes .cuda() and .cpu(); on a machine without a GPU the meta device plays the GPU.
x = torch.tensor(3.0, requires_grad = True).to("meta")
c = torch.tensor(2.0, requires_grad = True).cpu()
y = x*c
print(y)
print(type(x.grad_fn).__name__, x.is_leaf, c.is_leaf)
try:
    y.backward()
except NotImplementedError as e:
    print(f"NotImplementedError: {str(e).splitlines()[0]}")
v = torch.ones(3, device="meta")
w = torch.ones(3)
try:
    v * w  # culprit
except RuntimeError as e:
    print(f"RuntimeError: {str(e).splitlines()[0]}")
    print(e, file=sys.stderr)
