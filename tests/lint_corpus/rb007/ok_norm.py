import torch
import torch.nn.functional as F


def triplet_loss(anchor, positive, negative, margin=0.2):
    d_pos = (anchor - positive).norm(dim=1)
    d_neg = torch.linalg.vector_norm(anchor - negative, dim=1)
    return F.relu(d_pos - d_neg + margin).mean()
