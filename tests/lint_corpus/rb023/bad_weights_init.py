import torch.nn as nn


def weights_init(m):
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        m.weight.data.normal_(0.0, 0.02)  # expect: RB023
    elif classname.find("BatchNorm") != -1:
        m.weight.data.normal_(1.0, 0.02)  # expect: RB023
        m.bias.data.fill_(0)  # expect: RB023


net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))
net.apply(weights_init)
