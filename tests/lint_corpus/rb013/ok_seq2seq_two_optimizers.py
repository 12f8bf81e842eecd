import torch
from torch import optim


def train_pair(encoder, decoder, src, tgt, criterion):
    enc_opt = optim.SGD(encoder.parameters(), lr=0.01)
    dec_opt = optim.SGD(decoder.parameters(), lr=0.01)
    for s, t in zip(src, tgt):
        enc_opt.zero_grad()
        dec_opt.zero_grad()
        hidden = encoder(s)
        out = decoder(hidden)
        loss = criterion(out, t)
        loss.backward()
        enc_opt.step()
        dec_opt.step()
