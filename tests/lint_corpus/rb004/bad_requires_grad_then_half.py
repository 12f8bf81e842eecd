import torch


def build_embeddings(vocab_size, dim):
    emb = torch.randn(vocab_size, dim) * 0.02
    emb.requires_grad_()
    emb = emb.half()  # expect: RB004
    return emb


table = build_embeddings(1000, 64)
