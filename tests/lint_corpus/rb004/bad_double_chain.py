import rebours as torch

# gradient check in double precision
a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True).double()  # expect: RB004
out = (a ** 3).sum()
out.backward()
print(a.grad)
