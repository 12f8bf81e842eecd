import torch


def log_weight_norms(model, step, writer):
    with torch.no_grad():
        for name, p in model.named_parameters():
            norm = torch.sqrt(torch.sum(p ** 2))
            writer.add_scalar(f"norm/{name}", norm.item(), step)


@torch.no_grad()
def grad_norm(params):
    return torch.sqrt(sum((p.grad ** 2).sum() for p in params))
