import torch


def train_epoch(model, loader, optimizer, loss_fn):
    epoch_loss = torch.zeros(())
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        epoch_loss += loss.detach() * xb.size(0)
    return epoch_loss.item()
