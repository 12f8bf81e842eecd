# %%
import torch as T
from torch import nn, optim

model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1))
opt = optim.SGD(model.parameters(), lr=0.05)
X = T.randn(200, 2)
y = (X[:, :1] * X[:, 1:]).sign()

# %%
for epoch in range(300):
    pred = model(X)
    loss = nn.functional.soft_margin_loss(pred, y)
    loss.backward()
    opt.step()  # expect: RB012
    if epoch % 50 == 0:
        print(epoch, loss.item())
