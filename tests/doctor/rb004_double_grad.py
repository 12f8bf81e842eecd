import warnings

from _show import warned

import rebours

x = rebours.tensor(3.0, requires_grad=True).double()  # culprit
y = x * 2
y.backward()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    print(x.grad)
warned(caught)
print(x.is_leaf, type(x.grad_fn).__name__)
