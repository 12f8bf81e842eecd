from _show import error

import rebours

k = rebours.arange(3)
try:
    k.requires_grad_()  # culprit
except RuntimeError as e:
    error(e)
print(k.float().requires_grad_())
