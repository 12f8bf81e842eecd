import torch


def positions(seq_len):
    pos = torch.arange(0.0, seq_len, requires_grad=True)
    idx = torch.arange(seq_len, dtype=torch.float32, requires_grad=True)
    return torch.sin(pos / 10000.0) + idx
