import torch


def soft_update(target, source, tau=0.005):
    for t_param, s_param in zip(target.parameters(), source.parameters()):
        t_param.data.copy_(tau * s_param.data + (1.0 - tau) * t_param.data)  # expect: RB023
