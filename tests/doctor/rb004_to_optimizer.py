from _show import error

import rebours

w = rebours.tensor([1.0, 2.0], requires_grad=True)
w = w.to(rebours.float64)  # culprit
try:
    opt = rebours.optim.SGD([w], lr=0.1)
except ValueError as e:
    error(e)
w = rebours.tensor([1.0, 2.0], dtype=rebours.float64, requires_grad=True)
opt = rebours.optim.SGD([w], lr=0.1)
print(w.is_leaf)
