# rebours catches a write through a NumPy view of a saved tensor; PyTorch computes a wrong
# gradient (the new values, not the ones the product was computed from).
from _show import error

import rebours

x = rebours.tensor([10.0, 20.0, 30.0], requires_grad=True)
c = rebours.tensor([1.0, 2.0, 3.0])
arr = c.numpy()  # culprit
y = (x * c).sum()  # culprit
arr[0] = 100.0
try:
    y.backward()
    print(x.grad)
except RuntimeError as e:
    error(e)
