import torch


def make_weight(fan_in, fan_out):
    w = torch.empty(fan_out, fan_in)
    w.requires_grad_()
    w.normal_(0.0, fan_in ** -0.5)  # expect: RB005
    return w
