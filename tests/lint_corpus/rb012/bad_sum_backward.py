import torch


def smoke_train(model, device, iters=10):
    """Quick check that a sharded model trains (kept short on purpose)."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.25, foreach=True)
    for i in range(iters):
        torch.manual_seed(i)
        inp = torch.rand(20, 10, device=device)
        output = model(inp)
        output.sum().backward()
        optimizer.step()  # expect: RB012
        print(f"iter {i} done")
