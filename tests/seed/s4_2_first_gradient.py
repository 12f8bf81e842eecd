import rebours as torch

x = torch.tensor(4.0, requires_grad = True)
c = torch.tensor(8.0)
b = 5.0
y = c*x + b
print(y)
y.backward()
print(x)
print(x.grad)
print(c.grad)
try:
    print(b.grad)
except AttributeError as e:
    print(f"AttributeError: {e}")
