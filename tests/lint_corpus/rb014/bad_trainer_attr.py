import torch


class Trainer:
    def __init__(self, model, criterion, lr=1e-3):
        self.model = model
        self.criterion = criterion
        self.optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        self.total_loss = 0.0

    def fit(self, loader):
        for batch, target in loader:
            self.optimizer.zero_grad()
            loss = self.criterion(self.model(batch), target)
            loss.backward()
            self.optimizer.step()
            self.total_loss += loss  # expect: RB014
