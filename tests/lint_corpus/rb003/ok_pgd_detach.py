import torch
import torch.nn.functional as F


def pgd_attack(model, images, labels, eps=8 / 255, alpha=2 / 255, steps=10):
    """Projected gradient descent on the input, the usual adversarial attack."""
    delta = torch.zeros_like(images, requires_grad=True)
    for _ in range(steps):
        loss = F.cross_entropy(model(images + delta), labels)
        loss.backward()
        delta = (delta + alpha * delta.grad.sign()).clamp(-eps, eps)
        delta = delta.detach().requires_grad_()
    return (images + delta).clamp(0, 1).detach()
