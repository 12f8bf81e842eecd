import torch as T


def slope_of_sin(n=50):
    x = T.linspace(-3, 3, n, requires_grad=True)
    y = T.sin(x)
    y.sum().backward()
    slope = x.grad
    x = x.detach().numpy()
    return x, slope
