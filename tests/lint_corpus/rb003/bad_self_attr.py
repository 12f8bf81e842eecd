import torch


class PoseRefiner:
    """Refines a camera pose against 2D keypoints."""

    def __init__(self, lr=1e-3, scale=0.1):
        self.lr = lr
        self.scale = scale
        self.optimizer = None

    def reset(self, init_pose):
        self.pose = torch.as_tensor(init_pose, dtype=torch.float32).requires_grad_()
        self.pose = self.pose * self.scale  # expect: RB003
        self.optimizer = torch.optim.Adam([self.pose], lr=self.lr)

    def step(self, loss):
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
