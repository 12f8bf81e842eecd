import torch


def zero_grads(model):
    for p in model.parameters():
        if p.grad is not None:
            p.grad.data.zero_()
            p.grad.detach_()
