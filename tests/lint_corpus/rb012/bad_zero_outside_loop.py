import torch
from torch.optim import AdamW


def finetune(model, batches, lr=5e-5):
    optimizer = AdamW(model.parameters(), lr=lr)
    optimizer.zero_grad()
    for batch in batches:
        out = model(**batch)
        out.loss.backward()
        optimizer.step()  # expect: RB012
    return model
