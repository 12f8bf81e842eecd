import rebours as torch


def fit(w, data, steps=100, lr=0.1):
    opt = torch.optim.SGD([w], lr=lr)
    total_loss = 0
    step = 0
    while step < steps:
        x, y = data[step % len(data)]
        opt.zero_grad()
        loss = ((x * w).sum() - y) ** 2
        loss.backward()
        opt.step()
        total_loss += loss  # expect: RB014
        step += 1
    return total_loss / steps
