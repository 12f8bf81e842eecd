from _show import report

import rebours

x = rebours.tensor([0.0, 1.0, 4.0], requires_grad=True)
y = rebours.where(x > 0, rebours.sqrt(x), 0.0)  # culprit
print(y)
y.sum().backward()
print(x.grad)
report(rebours.explain(x))  # rebours only

x2 = rebours.tensor([0.0, 1.0, 4.0], requires_grad=True)
safe = rebours.where(x2 > 0, x2, 1.0)
rebours.where(x2 > 0, rebours.sqrt(safe), 0.0).sum().backward()
print(x2.grad)
