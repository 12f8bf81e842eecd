import torch
from torch import nn


class Trainer:
    def __init__(self, model, lr=1e-3):
        self.model = model
        self.opt = torch.optim.AdamW(model.parameters(), lr=lr)
        self.loss_fn = nn.MSELoss()

    def fit(self, loader, epochs=3):
        for _ in range(epochs):
            for x, y in loader:
                self.model.zero_grad(set_to_none=True)
                loss = self.loss_fn(self.model(x), y)
                loss.backward()
                self.opt.step()
