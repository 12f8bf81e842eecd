import torch


def soft_update(target, source, tau=0.005):
    with torch.no_grad():
        for t_param, s_param in zip(target.parameters(), source.parameters()):
            t_param.mul_(1.0 - tau).add_(s_param, alpha=tau)


def clip_weights(critic, clip=0.01):
    with torch.no_grad():
        for p in critic.parameters():
            p.clamp_(-clip, clip)
