from _show import error

import rebours

try:
    x = rebours.tensor([1.0, 2.0]).cuda()  # culprit
except (RuntimeError, AssertionError) as e:
    error(e)
device = "cuda" if rebours.cuda.is_available() else "cpu"
print(device, rebours.tensor([1.0, 2.0], device=device).device.type)
