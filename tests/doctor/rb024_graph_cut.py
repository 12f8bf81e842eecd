from _show import report

import rebours

x = rebours.tensor(3.0, requires_grad=True)
w = rebours.tensor(2.0, requires_grad=True)
b = rebours.tensor(1.0, requires_grad=True)
v = rebours.tensor(0.5, requires_grad=True)
s = rebours.tensor(w.item()) * x  # culprit
t = b.detach() * x  # culprit
with rebours.no_grad():
    u = v * 2  # culprit
loss = s + t + u * x
loss.backward()
print(x.grad)
print(w.grad, b.grad, v.grad)
for leaf in (w, b, v):  # rebours only
    report(rebours.explain(leaf))  # rebours only
