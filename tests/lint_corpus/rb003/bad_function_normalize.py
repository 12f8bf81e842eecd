import rebours as torch


def fit_direction(data, steps=200, lr=0.05):
    """Power-iteration style fit of the top principal direction."""
    w = torch.randn(data.shape[1], requires_grad=True)
    w = w / w.norm()  # expect: RB003
    for _ in range(steps):
        proj = data @ w
        loss = -(proj ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            w.grad.zero_()
    return w
