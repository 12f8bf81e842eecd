import rebours as torch


def unit_direction(v):
    sq = (v * v).sum()
    length = sq.sqrt()  # expect: RB007
    return v / length


v = torch.zeros(3, requires_grad=True)
u = unit_direction(v + 1e-3)
u.sum().backward()
