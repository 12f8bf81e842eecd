import rebours as torch

a = torch.linspace(0, 1, 50, dtype=torch.float64)
b = torch.rand(50, requires_grad=True)
c = a + b  # expect: RB010
c.sum().backward()
