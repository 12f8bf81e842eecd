import torch


def train_epoch(model, loader, optimizer, scaler, device):
    model.train()
    for batch in loader:
        inputs = batch["input_ids"].to(device)
        labels = batch["labels"].to(device)
        with torch.autocast(device_type="cuda", dtype=torch.float16):
            loss = model(inputs, labels=labels).loss
        scaler.scale(loss).backward()
        scaler.step(optimizer)  # expect: RB012
        scaler.update()
