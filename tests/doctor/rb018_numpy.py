from _show import error

import rebours

x = rebours.ones(3, requires_grad=True)
try:
    a = x.numpy()  # culprit
except RuntimeError as e:
    error(e)
print(x.detach().numpy())
