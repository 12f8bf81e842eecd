import rebours as torch

k = torch.tensor(5, requires_grad=True)  # expect: RB009
y = k * 2.0
