import rebours as torch
import rebours.optim as optim

x = torch.tensor(1.0, requires_grad = True)
c = torch.tensor(1.0, requires_grad = True)
b = 5.0
y = c*3*torch.exp(x)
y = y + b
y.backward()
print(x.grad)
print(c.grad)
op = optim.SGD([x,c], lr=1.0)
op.step()
print(x, c)
