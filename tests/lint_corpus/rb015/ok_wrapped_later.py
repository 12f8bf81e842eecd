from torch import nn


class Tower(nn.Module):
    def __init__(self, dims):
        super().__init__()
        self.stages = []
        for d_in, d_out in zip(dims[:-1], dims[1:]):
            self.stages.append(nn.Linear(d_in, d_out))
        self.stages = nn.ModuleList(self.stages)

    def forward(self, x):
        for stage in self.stages:
            x = stage(x).relu()
        return x
