from _show import error

import rebours

x = rebours.tensor([1.0, 2.0], requires_grad=True)
y = x * 2
try:
    y.requires_grad = False  # culprit
except RuntimeError as e:
    error(e)
z = y.detach()
print(z.requires_grad, z.is_leaf)
