import torch as T
import torch.nn.functional as F


def triplet_loss(anchor, positive, negative, margin=0.2):
    d_pos = T.sqrt((anchor - positive).pow(2).sum(1))  # expect: RB007
    d_neg = T.sqrt((anchor - negative).pow(2).sum(1))  # expect: RB007
    return F.relu(d_pos - d_neg + margin).mean()
