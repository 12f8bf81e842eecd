from _show import error

import rebours

x = rebours.ones(3, requires_grad=True)
try:
    x.grad = rebours.ones(2)  # culprit
except RuntimeError as e:
    error(e)
y = x * 2
try:
    y.backward(gradient=rebours.ones(2))  # culprit
except RuntimeError as e:
    error(e)
y.backward(gradient=rebours.ones_like(y))
print(x.grad)
