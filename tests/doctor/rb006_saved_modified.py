from _show import error

import rebours

x = rebours.tensor([10.0, 20.0, 30.0], requires_grad=True)
c = rebours.tensor([1.0, 2.0, 3.0], requires_grad=True)
h = x * 1
p = c * h  # culprit
h[0] = 0.0  # culprit
y = rebours.sum(p)
try:
    y.backward()
except RuntimeError as e:
    error(e)

e = rebours.exp(x / 10)  # culprit
e.add_(1)  # culprit
try:
    e.sum().backward()
except RuntimeError as err:
    error(err)
