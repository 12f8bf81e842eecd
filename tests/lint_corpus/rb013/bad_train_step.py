import torch.nn.functional as F


def train_step(model, optimizer, batch):
    x, y = batch
    optimizer.zero_grad()
    logits = model(x)
    loss = F.cross_entropy(logits, y)
    optimizer.step()  # expect: RB013
    loss.backward()
    return loss.item()
