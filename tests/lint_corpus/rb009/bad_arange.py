import torch


def positions(seq_len):
    pos = torch.arange(seq_len, requires_grad=True)  # expect: RB009
    return torch.sin(pos / 10000.0)
