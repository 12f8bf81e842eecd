import torch
import torch.nn.functional as F


@torch.no_grad()
def evaluate(model, loader):
    total = 0.0
    for x, y in loader:
        total += F.cross_entropy(model(x), y, reduction="sum")
    return total / len(loader.dataset)


def validate(model, loader):
    val_loss = 0.0
    with torch.no_grad():
        for x, y in loader:
            loss = F.mse_loss(model(x), y)
            val_loss += loss
    return val_loss
