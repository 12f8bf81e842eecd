import copy

import torch


class EMA:
    def __init__(self, model, decay=0.999):
        self.shadow = copy.deepcopy(model).eval()
        self.decay = decay

    def update(self, model):
        with torch.no_grad():
            for e, p in zip(self.shadow.parameters(), model.parameters()):
                e.mul_(self.decay).add_(p, alpha=1 - self.decay)
