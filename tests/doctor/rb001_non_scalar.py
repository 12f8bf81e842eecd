from _show import error

import rebours

x = rebours.ones(2, 3, requires_grad=True)
c = rebours.ones(2, 3, requires_grad=True)
y = rebours.exp(x) * (c * 3) + rebours.exp(x)
try:
    y.backward()  # culprit
except RuntimeError as e:
    error(e)
y.sum().backward()
print(x.grad)
print(c.grad)
