from _show import error

import rebours

try:
    x = rebours.tensor(3, requires_grad=True)  # culprit
except RuntimeError as e:
    error(e)
try:
    k = rebours.tensor([1, 2, 3], dtype=rebours.int32, requires_grad=True)  # culprit
except RuntimeError as e:
    error(e)
x = rebours.tensor(3.0, requires_grad=True)
print(x)
