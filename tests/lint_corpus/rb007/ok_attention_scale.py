import math

import torch
import torch.nn.functional as F


def attention(q, k, v):
    d_k = q.size(-1)
    scores = q @ k.transpose(-2, -1) / math.sqrt(d_k)
    scale = torch.sqrt(torch.tensor(d_k, dtype=torch.float32))
    rms = torch.sqrt(torch.mean(v ** 2) + 1e-8)
    return F.softmax(scores, dim=-1) @ (v / rms), scale
