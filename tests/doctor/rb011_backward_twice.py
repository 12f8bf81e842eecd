from _show import error

import rebours

x = rebours.tensor(2.0, requires_grad=True)
y = x * x
y.backward()  # culprit
try:
    y.backward()
except RuntimeError as e:
    error(e)
y = x * x
y.backward(retain_graph=True)
y.backward()
print(x.grad)
