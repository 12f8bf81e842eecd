import torch as T


def critic_step(critic, opt, real, fake, clip=0.01):
    opt.zero_grad()
    loss = critic(fake).mean() - critic(real).mean()
    loss.backward()
    opt.step()
    for p in critic.parameters():
        p.data.clamp_(-clip, clip)  # expect: RB023
    return loss.item()


def assign(p, value):
    p.data = T.as_tensor(value)  # expect: RB023
