from _show import report

import rebours

x = rebours.tensor(4.0, requires_grad=True)
c = rebours.tensor(8.0)
b = 5.0
y = c * x + b
y.backward()
print(x.grad)
print(c.grad)
try:
    print(b.grad)
except AttributeError as e:
    print(f"AttributeError: {e}")
report(rebours.explain(c))  # rebours only
report(rebours.explain(b))  # rebours only
