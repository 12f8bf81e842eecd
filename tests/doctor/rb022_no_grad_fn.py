from _show import error

import rebours

x = rebours.tensor([-1.0, 2.0, 0.5], requires_grad=True)
n = (x > 0).sum()
try:
    n.backward()  # culprit
except RuntimeError as e:
    error(e)
with rebours.no_grad():
    loss = (x * 2).sum()
try:
    loss.backward()  # culprit
except RuntimeError as e:
    error(e)
rebours.sigmoid(4 * x).sum().backward()
print(x.grad)
