import torch.nn.functional as F


def multitask_loss(outputs, targets, weights):
    total = 0.0
    for name, w in weights.items():
        total += w * F.mse_loss(outputs[name], targets[name])
    return total
