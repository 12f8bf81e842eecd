import torch
import torch.nn.functional as F


def fit(model, loader, max_steps):
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    it = iter(loader)
    step = 0
    while step < max_steps:
        try:
            x, y = next(it)
        except StopIteration:
            it = iter(loader)
            continue
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()  # expect: RB012
        step += 1
