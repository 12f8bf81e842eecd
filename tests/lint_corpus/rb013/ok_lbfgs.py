import torch


def style_transfer(img, content_loss, style_loss, steps=300):
    img = img.clone().requires_grad_(True)
    optimizer = torch.optim.LBFGS([img])
    run = [0]
    while run[0] <= steps:

        def closure():
            with torch.no_grad():
                img.clamp_(0, 1)
            optimizer.zero_grad()
            loss = content_loss(img) + 1e6 * style_loss(img)
            loss.backward()
            run[0] += 1
            return loss

        optimizer.step(closure)
    return img.detach()
