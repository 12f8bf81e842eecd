import torch


class Trainer:
    def __init__(self, model, steps):
        self.model = model
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4)
        self.scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(self.optimizer, steps)

    def run(self, loader):
        for batch in loader:
            self.optimizer.zero_grad()
            loss = self.model(**batch).loss
            self.optimizer.step()  # expect: RB013
            self.scheduler.step()
            loss.backward()
