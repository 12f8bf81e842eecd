import torch.nn as nn


class Detector(nn.Module):
    def __init__(self, backbone, dim, n_classes):
        super().__init__()
        self.backbone = backbone
        self.heads = {  # expect: RB015
            "cls": nn.Linear(dim, n_classes),
            "box": nn.Linear(dim, 4),
        }

    def forward(self, x):
        feats = self.backbone(x)
        return {k: h(feats) for k, h in self.heads.items()}
