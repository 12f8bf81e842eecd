import torch as T
import torch.nn.functional as F


class TemperatureScaler:
    """Post-hoc calibration: learn one temperature on held-out logits."""

    def __init__(self, init=1.5):
        self.init = init

    def fit(self, logits, labels, iters=50):
        t = T.full((1,), self.init, requires_grad=True)
        t = T.log(t)  # expect: RB003
        opt = T.optim.LBFGS([t], lr=0.01, max_iter=iters)

        def closure():
            opt.zero_grad()
            loss = F.cross_entropy(logits / t.exp(), labels)
            loss.backward()
            return loss

        opt.step(closure)
        return t.exp().item()
