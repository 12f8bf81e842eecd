import warnings

from _show import error, warned

import rebours
import rebours.optim as optim

x = rebours.tensor(1.0, requires_grad=True)
x = rebours.exp(x)  # culprit
c = rebours.tensor(1.0, requires_grad=True)
y = c * 3 * x + 5.0
y.backward()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    print(x.grad)
warned(caught)
print(c.grad)
try:
    op = optim.SGD([x, c], lr=1.0)
except ValueError as e:
    error(e)
