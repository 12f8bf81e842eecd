from _show import error

import rebours

x = rebours.tensor(3.0, requires_grad=True)
try:
    x += 2.0  # culprit
except RuntimeError as e:
    error(e)
print(x)

x = rebours.tensor([10.0, 20.0, 30.0], requires_grad=True)
c = rebours.tensor([1.0, 2.0, 3.0], requires_grad=True)
try:
    x[0] = c[0] * x[0]  # culprit
except RuntimeError as e:
    error(e)

m = rebours.ones(4, requires_grad=True)
v = m.view(2, 2)
try:
    v.mul_(2)  # culprit
except RuntimeError as e:
    error(e)

w = rebours.zeros(3)
for i in range(3):
    w[i] = c[i] * x[i]
w.sum().backward()
print(x.grad)
print(c.grad)
