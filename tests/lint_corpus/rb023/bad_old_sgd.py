import torch
import torch.nn.functional as F


def train(model, loader, lr=0.01):
    for x, y in loader:
        model.zero_grad()
        loss = F.nll_loss(model(x), y)
        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.grad.data  # expect: RB023
