# %% [markdown]
# Latent optimisation against a frozen generator.

# %%
import torch as T

G = T.jit.load("generator.pt").eval()
latent = T.randn(1, 512, requires_grad=True)

# %%
latent = latent.to("cuda")  # expect: RB004
opt = T.optim.Adam([latent], lr=0.05)
for i in range(300):
    opt.zero_grad()
    img = G(latent)
    loss = img.mean()
    loss.backward()
    opt.step()
