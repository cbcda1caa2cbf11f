"""The VAE baseline (Kingma & Welling 2014) on the GAN engine, for the VAE-vs-GAN comparison.

The decoder is the generator network a GAN config names (nets.g), so both models share one
architecture and sample the same way: G(z), z ~ N(0, I). The encoder is nets.d built with a class
head of 2 x z_dim outputs in place of its real/fake logit: q(z|x) = N(mu, diag exp(logvar)).
    loss = -ELBO = E_q[-log p(x|z)] + KL(q(z|x) || N(0, I))     (nats per image)
p(x|z) is Bernoulli over pixels in [0, 1] (binary cross-entropy), as in the paper's MNIST models:
a unit-variance Gaussian (MSE / 2) weighs each pixel's error so little against the KL that the
decoder tends to ignore z and draw blurred averages.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gankit import nets
from gankit.config import Config
from gankit.data import DataSpec
from gankit.errors import BadInput
from gankit.nets import NETS
from gankit.recipes.base import RECIPES, Recipe, read_options
from gankit.stabilisers import active_stabilisers


def kl_to_standard_normal(mu: Tensor, logvar: Tensor) -> Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) in closed form, summed over z: (B,)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1)


def bernoulli_nll(x_hat: Tensor, x: Tensor) -> Tensor:
    """-log p(x | x_hat) for pixels in [-1, 1], read as Bernoulli means in [0, 1]: (B,)."""
    p, target = (x_hat.float() + 1) / 2, (x.float() + 1) / 2
    with torch.autocast(x.device.type, enabled=False):  # BCE refuses to run under autocast
        return F.binary_cross_entropy(p, target, reduction="none").flatten(1).sum(1)


def reparameterise(mu: Tensor, logvar: Tensor, eps: Tensor) -> Tensor:
    """z = mu + sigma * eps: a sample of q(z|x) that gradients flow through to mu and logvar."""
    return mu + (0.5 * logvar).exp() * eps


class Encoder(nn.Module):
    """q(z|x): a discriminator body whose 2 x z_dim class logits are read as (mu, logvar)."""

    def __init__(self, body: nn.Module) -> None:
        super().__init__()
        self.body = body

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return self.body.classify(x).chunk(2, dim=1)


@RECIPES.register("vae")
class VAE(Recipe):
    """VAE baseline: decoder = nets.g (samples as G(z)), encoder = nets.d with a 2 x z_dim head.

    One Adam over both halves at optim.lr_g (the ELBO is one loss of all their weights).
    """

    options: dict = {}  # none: a recipe_options key is a mistake, not silently ignored
    critic = None  # no adversary: the engine runs G's phase alone
    generator = "vae"  # one optimiser over decoder and encoder
    log_phase_losses = False  # its losses are logged by name: recon_loss, kl_loss, elbo

    def __init__(self, cfg: Config, spec: DataSpec, device: torch.device) -> None:
        super().__init__(cfg, spec, device)
        read_options(cfg, self.options)
        check_vae_config(cfg, spec)
        g, encoder = self.build_net("g"), self.build_encoder()
        self.modules.update(g=g, encoder=encoder)
        self.optimizers["vae"] = self.optimizer(nn.ModuleList([g, encoder]), cfg.optim.lr_g)
        self.G, self.E = self.wrap(g), self.wrap(encoder)

    def build_encoder(self) -> Encoder:
        n = self.cfg.nets
        shape, k = self.spec.shape, 2 * n.z_dim  # K = 2 z_dim "classes": mu and logvar
        body = nets.build(n.d, "d", shape, n.z_dim, k, conditioning="classes", **n.d_options)
        return Encoder(body).to(self.device)

    def fake(self, batch: tuple[Tensor, Tensor | None]) -> tuple[Tensor, Tensor, Tensor]:
        """(x_hat, mu, logvar): the decoder's output for z ~ q(z|x)."""
        mu, logvar = self.E(batch[0])
        z = reparameterise(mu, logvar, self.noise(len(mu)))
        return self.G(z), mu, logvar

    def g_loss(self, batch: tuple[Tensor, Tensor | None], fake: tuple) -> tuple[Tensor, dict]:
        """The VAE minimises -ELBO = E_q[-log p(x|z)] + KL(q(z|x) || N(0, I))."""
        x_hat, mu, logvar = fake
        recon = bernoulli_nll(x_hat, batch[0]).mean()
        kl = kl_to_standard_normal(mu, logvar).mean()
        # *_loss: the report draws them with the other runs' losses
        return recon + kl, {
            "recon_loss": recon.detach(),
            "kl_loss": kl.detach(),
            "elbo": -(recon + kl).detach(),
        }


def has_class_head(net: str) -> bool:
    """Whether a registered network can be built as a D with K class logits."""
    return NETS.has(net, "class_head")


def check_vae_config(cfg: Config, spec: DataSpec) -> None:
    """The VAE has no game: reject settings it would silently ignore, and data it cannot model."""
    if spec.kind != "image":
        raise BadInput(
            f'recipe vae models images (Bernoulli pixels); "{spec.name}" holds {spec.kind}: '
            f"use an image dataset, or recipe: unconditional."
        )
    if not has_class_head(cfg.nets.d):
        heads = " or ".join(n for n in NETS.names() if has_class_head(n))
        raise BadInput(
            f"recipe vae builds its encoder from nets.d with a 2 x z_dim class head, and network "
            f'"{cfg.nets.d}" has none: use nets.d: {heads}.'
        )
    if "conditioning" in cfg.nets.d_options:
        raise BadInput(
            "recipe vae sets its encoder's head itself: remove nets.d_options.conditioning."
        )
    if cfg.train.n_critic != 1 or cfg.loss.penalty not in ("auto", "none"):
        raise BadInput("recipe vae has no critic: set train.n_critic: 1 and loss.penalty: auto.")
    on = active_stabilisers(cfg)
    if on:
        raise BadInput(f"recipe vae does not apply GAN stabilisers ({', '.join(on)}): remove them.")
