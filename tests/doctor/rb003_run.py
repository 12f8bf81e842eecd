# Run as `python -m rebours run rb003_run.py`: the optimizer's error is not caught.
import rebours

w = rebours.tensor([1.0, 2.0], requires_grad=True)
w = w / w.sum()  # culprit
opt = rebours.optim.SGD([w], lr=0.1)
