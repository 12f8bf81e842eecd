import torch


def learn_mask(scores, n_steps=100):
    """Learn a soft mask over features, but pin the first one to zero."""
    mask = torch.ones(scores.shape[-1], requires_grad=True)
    mask[0] = 0.0  # expect: RB005
    opt = torch.optim.Adam([mask], lr=0.1)
    for _ in range(n_steps):
        opt.zero_grad()
        loss = -(scores * torch.sigmoid(mask)).sum()
        loss.backward()
        opt.step()
    return mask
