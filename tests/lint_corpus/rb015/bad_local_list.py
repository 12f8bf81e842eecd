from torch import nn


class ConvStack(nn.Module):
    def __init__(self, channels):
        super().__init__()
        convs = []
        for c_in, c_out in zip(channels[:-1], channels[1:]):
            convs.append(nn.Conv2d(c_in, c_out, 3, padding=1))
        self.convs = convs  # expect: RB015

    def forward(self, x):
        for conv in self.convs:
            x = nn.functional.relu(conv(x))
        return x
