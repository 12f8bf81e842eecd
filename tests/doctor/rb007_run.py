# Run as `python -m rebours run rb007_run.py`: anomaly mode stops at the first NaN.
import rebours

x = rebours.tensor([0.0, 0.0, 0.0], requires_grad=True)
norm = rebours.sqrt(rebours.sum(x ** 2))  # culprit
loss = norm * 2
loss.backward()
print(x.grad)
