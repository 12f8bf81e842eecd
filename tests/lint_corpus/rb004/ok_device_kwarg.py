import torch

device = "cuda" if torch.cuda.is_available() else "cpu"
w = torch.randn(10, 1, device=device, requires_grad=True)
b = torch.zeros(1, device=device, dtype=torch.float64, requires_grad=True)
opt = torch.optim.SGD([w, b], lr=0.01)
