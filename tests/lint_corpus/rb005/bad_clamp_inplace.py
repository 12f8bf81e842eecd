import torch as T

# non-negative matrix factorisation by projected gradient
V = T.rand(100, 40)
W = T.rand(100, 8, requires_grad=True)
H = T.rand(8, 40, requires_grad=True)
opt = T.optim.SGD([W, H], lr=1e-2)
for it in range(1000):
    opt.zero_grad()
    loss = ((V - W @ H) ** 2).sum()
    loss.backward()
    opt.step()
    W.clamp_(min=0)  # expect: RB005
    with T.no_grad():
        H.clamp_(min=0)
