import torch


def kinetic_penalty(traj, dt):
    """Penalise speed along a 2D trajectory (x, y columns)."""
    dx = (traj[1:, 0] - traj[:-1, 0]) / dt
    dy = (traj[1:, 1] - traj[:-1, 1]) / dt
    speed = torch.sqrt(dx ** 2 + dy ** 2)  # expect: RB007
    return speed.mean()
