import torch
import torch.nn.functional as F


def multi_crop_step(model, crops, target, optimizer):
    optimizer.zero_grad()
    total = 0
    for crop in crops:
        total = total + F.cross_entropy(model(crop), target)
    total = total / len(crops)
    total.backward()
    optimizer.step()
