import numpy as np
import torch
from torch.utils.data import Dataset


class Augmented(Dataset):
    def __init__(self, arr):
        self.data = np.asarray(arr, dtype=np.float32)
        self.targets = np.zeros(len(arr), dtype=np.int64)

    def shuffle_noise(self, i):
        self.data[i] = self.data[i] + np.random.randn(*self.data[i].shape)

    def __getitem__(self, i):
        return torch.from_numpy(self.data[i]), int(self.targets[i])

    def __len__(self):
        return len(self.data)
