from torch.nn import Linear, Module


class MixtureOfExperts(Module):
    def __init__(self, dim, n_experts=4):
        super().__init__()
        self.gate = Linear(dim, n_experts)
        self.experts = [Linear(dim, dim), Linear(dim, dim), Linear(dim, dim)]  # expect: RB015

    def forward(self, x):
        w = self.gate(x).softmax(-1)
        return sum(w[..., i : i + 1] * e(x) for i, e in enumerate(self.experts))
