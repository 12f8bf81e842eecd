import torch


def train_epoch(model, loader, optimizer, loss_fn):
    epoch_loss = 0.0
    n = 0
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        epoch_loss += loss * xb.size(0)  # expect: RB014
        n += xb.size(0)
    return epoch_loss / n
