# The meta device plays the GPU, so this runs on any machine.
from _show import error

import rebours

x = rebours.ones(3, device="meta")
w = rebours.ones(3, requires_grad=True)
try:
    y = x * w  # culprit
except RuntimeError as e:
    error(e)
print((x * rebours.tensor(2.0)).shape)
print((x * w.to(x.device)).device.type)
