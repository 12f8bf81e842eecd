from _show import error

import rebours

x = rebours.tensor([0.0, 0.0, 0.0], requires_grad=True)
c = rebours.tensor(2.0)
with rebours.autograd.detect_anomaly():
    y = rebours.sqrt(rebours.sum(x ** 2))  # culprit
    y = y * c
    try:
        y.backward()
    except RuntimeError as e:
        error(e)
