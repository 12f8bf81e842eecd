import torch


def make_prompt_embedding(n_tokens, dim, device):
    """A learnable soft prompt for prompt tuning."""
    prompt = torch.zeros(n_tokens, dim, requires_grad=True)
    torch.nn.init.normal_(prompt, std=0.02)
    prompt = prompt.to(device)  # expect: RB004
    optimizer = torch.optim.AdamW([prompt], lr=3e-3)
    return prompt, optimizer
