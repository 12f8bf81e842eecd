from torch import sigmoid, tensor


def sensitivity(raw):
    """d/dp of p(1-p) at the probabilities given by `raw` logits."""
    p = tensor(raw, requires_grad=True)
    p = sigmoid(p)  # expect: RB003
    y = (p * (1 - p)).sum()
    y.backward()
    return p.grad
