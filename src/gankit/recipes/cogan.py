"""CoGAN (Liu & Tuzel 2016): a joint distribution of two domains learnt without pairs.

Two generators share their first layers (the high-level semantics of an item) and keep their last
ones (how each domain renders it); two discriminators keep their first layers and share their
last. One z then gives a *pair* (G_A(z), G_B(z)) of the same item in both domains, although no
pair was ever shown. The networks are nets.g / nets.d twice (layers registered in forward order:
dcgan, mlp); each pair is tied so the shared layers are the same modules, hence the same tensors.
    D minimises  game.d_loss(D_A(a), D_A(G_A(z))) + game.d_loss(D_B(b), D_B(G_B(z)))
    G minimises  game.g_loss(D_A(G_A(z))) + game.g_loss(D_B(G_B(z)))
recipe_options: private_g (G's last layers each domain keeps, 1 as in the paper), private_d (D's
first layers each domain keeps, 1).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gankit.config import Config
from gankit.data import DataSpec
from gankit.data.translation import split
from gankit.errors import BadInput
from gankit.recipes.base import RECIPES
from gankit.recipes.translation import TranslationRecipe, evaluating

WEIGHTED = (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)


def leaves(net: nn.Module) -> list[str]:
    """Paths of the modules without children, in registration (= forward, for dcgan) order."""
    return [name for name, m in net.named_modules() if name and not list(m.children())]


def shared_paths(net: nn.Module, private: int, keep: str) -> list[str]:
    """Leaf paths outside the `private` weighted layers at the "first" or "last" end of net."""
    paths = leaves(net)
    weighted = [i for i, p in enumerate(paths) if isinstance(net.get_submodule(p), WEIGHTED)]
    if not 0 < private < len(weighted):
        raise BadInput(
            f"recipe cogan: {private} private layer(s) leave nothing to share in a network with "
            f"{len(weighted)} weighted layers: use 1..{len(weighted) - 1}."
        )
    if keep == "last":  # G: everything before its last `private` weighted layers is shared
        return paths[: weighted[-private]]
    return paths[weighted[private - 1] + 1 :]  # D: everything after its first `private` ones


class Coupled(nn.Module):
    """Two networks of one architecture whose `shared` layers are the same modules.

    Checkpoints hold each shared tensor once (safetensors refuses aliases): the copies under
    b. are dropped when saving and filled in from a. when loading.
    """

    def __init__(self, a: nn.Module, b: nn.Module, shared: list[str]) -> None:
        super().__init__()
        for path in shared:
            parent, _, name = path.rpartition(".")
            setattr(b.get_submodule(parent) if parent else b, name, a.get_submodule(path))
        self.a, self.b = a, b
        self.copies = [  # (key under b., the same tensor's key under a.)
            (f"b.{path}.{key}", f"a.{path}.{key}")
            for path in shared
            for key in a.get_submodule(path).state_dict()
        ]
        self.register_state_dict_post_hook(Coupled._drop_copies)
        self.register_load_state_dict_pre_hook(Coupled._fill_copies)

    @staticmethod
    def _drop_copies(module: Coupled, state: dict, prefix: str, meta: dict) -> None:
        for copy, _ in module.copies:
            state.pop(prefix + copy, None)

    @staticmethod
    def _fill_copies(module: Coupled, state: dict, prefix: str, *args: object) -> None:
        for copy, original in module.copies:
            if prefix + original in state:
                state[prefix + copy] = state[prefix + original]

    def forward(self, x_a: Tensor, x_b: Tensor) -> tuple[Tensor, Tensor]:
        return self.a(x_a), self.b(x_b)


@RECIPES.register("cogan")
class CoGAN(TranslationRecipe):
    """CoGAN: two Gs sharing their first layers, two Ds sharing their last, unpaired domains."""

    layout = "unpaired"
    samples_from_noise = True  # (A, B) pairs drawn from z: the joint distribution it learned
    options = {"private_g": 1, "private_d": 1}

    def __init__(self, cfg: Config, spec: DataSpec, device: torch.device) -> None:
        super().__init__(cfg, spec, device)
        g_a, g_b = self.build_net_of("g"), self.build_net_of("g")
        d_a, d_b = self.build_net_of("d"), self.build_net_of("d")
        g = Coupled(g_a, g_b, shared_paths(g_a, self.opts["private_g"], "last"))
        d = Coupled(d_a, d_b, shared_paths(d_a, self.opts["private_d"], "first"))
        self.modules.update(g=g, d=d)
        self.optimizers.update(
            g=self.optimizer(g, cfg.optim.lr_g), d=self.optimizer(d, cfg.optim.lr_d)
        )
        self.G, self.D = self.wrap(g), self.wrap(d)

    def build_net_of(self, role: str) -> nn.Module:
        """nets.g / nets.d for one domain's images (z -> image, image -> logit)."""
        from gankit import nets

        n = self.cfg.nets
        options = n.g_options if role == "g" else n.d_options
        name = getattr(n, role)
        return nets.build(name, role, self.image_shape, n.z_dim, **options).to(self.device)

    def fake(self, batch: tuple[Tensor, Tensor | None]) -> tuple[Tensor, Tensor]:
        """(G_A(z), G_B(z)): one z, a pair of the same item in both domains."""
        z = self.noise(len(batch[0]))
        return self.G(z, z)

    def d_loss(self, batch: tuple[Tensor, Tensor | None], fake: tuple) -> tuple[Tensor, dict]:
        """D minimises game.d_loss(D_A(a), D_A(G_A(z))) + game.d_loss(D_B(b), D_B(G_B(z)))."""
        a, b = split(batch[0])
        fake_a, fake_b = fake
        (real_a, real_b), (logit_a, logit_b) = self.D(a, b), self.D(fake_a, fake_b)
        loss = self.game.d_loss(real_a, logit_a) + self.game.d_loss(real_b, logit_b)
        d_a, d_b = self.modules["d"].a, self.modules["d"].b
        loss = loss + self.penalty_of(d_a, a, fake_a) + self.penalty_of(d_b, b, fake_b)
        return loss, self.d_outputs(torch.cat([real_a, real_b]), torch.cat([logit_a, logit_b]))

    def g_loss(self, batch: tuple[Tensor, Tensor | None], fake: tuple) -> tuple[Tensor, dict]:
        """G minimises game.g_loss(D_A(G_A(z))) + game.g_loss(D_B(G_B(z)))."""
        logit_a, logit_b = self.D(*fake)
        return self.game.g_loss(logit_a) + self.game.g_loss(logit_b), {}

    @torch.no_grad()
    def generate(self, z: Tensor, labels: Tensor | None = None, ema: bool = True) -> Tensor:
        """Pairs from one z each: G_A(z) | G_B(z) side by side."""
        g = self.generator_net("g", ema)
        with evaluating([g]):
            return torch.cat(g(z, z), dim=3)

    def translate(self, x: Tensor, to: str | None = None) -> Tensor:
        raise BadInput(
            "a cogan run generates pairs from noise and translates no images: export pairs "
            "with `gankit sample RUN` (each image is A | B side by side)."
        )
