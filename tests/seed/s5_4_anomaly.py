import sys

import rebours as torch

x = torch.tensor([0.0,0.0,0.0], requires_grad = True)
c = torch.tensor(2.0)
with torch.autograd.detect_anomaly():
    y = torch.sqrt(torch.sum(x**2))  # culprit
    y = y*c
    try:
        y.backward()
    except RuntimeError as e:
        print(f"RuntimeError: {str(e).splitlines()[0]}")
        print(e, file=sys.stderr)
