"""Training tricks against instability and mode collapse, switched on in the config's
`stabilisers:` section and applied by the unconditional recipe (and the recipes built on it).

Each switch is off by default; with all off the recipe's step is exactly the plain one. Two more
stabilisers live where they belong already: R1 and DRAGAN (`loss.penalty: r1 | dragan`) and an
EMA of G's weights (`train.ema: 0.999`); spectral norm is `nets.d_options.spectral_norm: true`.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from gankit.ada import AdaptiveAugment
from gankit.augment import AUGMENTATIONS, diff_augment
from gankit.config import Config
from gankit.core.state import RecipeState
from gankit.errors import BadInput
from gankit.losses import LOSSES, Game
from gankit.nets.layers import MinibatchDiscriminationHead

# When each one helps, in one line each (`gankit list` shows them); papers in the docstrings below.
WHEN = {
    "minibatch_discrimination": "mode collapse: D sees how alike a batch is (value: kernels)",
    "feature_matching": "D overpowers G: G also matches D's mean features on real data (weight)",
    "label_smoothing": "D over-confident: one-sided real target 1 - s, fakes keep 0 (value: s)",
    "historical_averaging": "the game cycles: pull weights to their past mean (weight)",
    "diffaugment": "little data: same differentiable augmentation on real and fake (policies)",
    "instance_noise": "disjoint supports early on: noise on D's inputs, annealed to 0 (std)",
    "ada": "little data: augmented D inputs, p raised while D overfits (target, speed_img)",
}
# Papers: minibatch discrimination, feature matching, label smoothing and historical averaging:
# Salimans et al. 2016; DiffAugment: Zhao et al. 2020; instance noise: Sonderby et al. 2017;
# ADA (adaptive discriminator augmentation): Karras et al. 2020.


def active_stabilisers(cfg: Config) -> list[str]:
    """Names of the switches that are on."""
    s = cfg.stabilisers
    return [name for name in WHEN if getattr(s, name)]


def check(cfg: Config) -> None:
    """Ranges and combinations; the first problem raises BadInput with its fix."""
    s = cfg.stabilisers
    for name in ("minibatch_discrimination", "feature_matching", "historical_averaging"):
        if getattr(s, name) < 0:
            raise BadInput(f"stabilisers.{name} = {getattr(s, name)}: use 0 (off) or more.")
    if not 0 <= s.label_smoothing < 1:
        raise BadInput(f"stabilisers.label_smoothing = {s.label_smoothing}: use s in [0, 1).")
    if s.label_smoothing and LOSSES.get(cfg.loss.name)().d_loss_at is None:
        smoothable = [name for name in LOSSES.names() if LOSSES.get(name)().d_loss_at]
        raise BadInput(
            f"stabilisers.label_smoothing needs a game with a real target "
            f"({', '.join(smoothable)}), not loss.name {cfg.loss.name}: set it to 0."
        )
    unknown = [p for p in s.diffaugment if p not in AUGMENTATIONS]
    if unknown:
        raise BadInput(
            f"stabilisers.diffaugment: unknown policy {unknown[0]!r}; use some of "
            f"{', '.join(AUGMENTATIONS)}."
        )
    if s.instance_noise < 0 or s.instance_noise_steps < 0:
        raise BadInput("stabilisers.instance_noise and instance_noise_steps must be >= 0.")


def check_images(shape: tuple[int, ...]) -> None:
    """ADA's transforms need square images of 1 or 3 channels."""
    if len(shape) != 3 or shape[0] not in (1, 3) or shape[1] != shape[2]:
        raise BadInput(
            f"stabilisers.ada augments square images with 1 or 3 channels, and this data's items "
            f"are {'x'.join(map(str, shape))}: switch it off (stabilisers.ada: {{}})."
        )


# -- D's penultimate features, of any network ---------------------------------------------------
def head_of(d: nn.Module) -> nn.Module:
    """D's last layer (the one that makes the logit): a minibatch-discrimination head when
    there is one, else the last Linear / Conv2d in definition order."""
    layers = [m for m in d.modules() if isinstance(m, MinibatchDiscriminationHead)]
    layers = layers or [m for m in d.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    if not layers:
        raise BadInput(f"{type(d).__name__} has no linear or conv layer to find features at.")
    return layers[-1]


def logits_and_features(d: nn.Module, x: Tensor, head: nn.Module) -> tuple[Tensor, Tensor]:
    """D(x) and the input of D's head, flattened (B, F), from one forward pass."""
    seen: list[Tensor] = []
    handle = head.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    try:
        logits = d(x)
    finally:
        handle.remove()
    return logits, seen[-1].flatten(1)


def add_minibatch_discrimination(d: nn.Module, kernels: int, shape: tuple[int, ...]) -> None:
    """Replace D's head (in place) by one that also sees minibatch-discrimination features."""
    head = head_of(d)
    parent, attr = next(
        (m, n) for m in d.modules() for n, child in m.named_children() if child is head
    )
    device = next(d.parameters()).device
    was_training = d.training
    with torch.no_grad():  # the head's input size, from one pass over a dummy batch
        _, features = logits_and_features(d.eval(), torch.zeros(2, *shape, device=device), head)
    d.train(was_training)
    wrapped = MinibatchDiscriminationHead(head, features.shape[1], kernels).to(device)
    setattr(parent, attr, wrapped)


# -- the pieces --------------------------------------------------------------------------------
def feature_matching(real_features: Tensor, fake_features: Tensor) -> Tensor:
    """||E f(x) - E f(G(z))||^2 / F: the batch means of D's features, matched."""
    return (real_features.mean(0) - fake_features.mean(0)).pow(2).mean()


class HistoricalAverage(nn.Module):
    """The running mean of a network's weights over its past steps, as buffers (checkpointed).

    penalty(net) = sum ||theta - mean_t theta_t||^2 (Salimans et al. 2016, section 3.3).
    """

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        for i, p in enumerate(net.parameters()):
            self.register_buffer(f"p{i}", p.detach().clone())
        self.register_buffer("count", torch.tensor(1.0, dtype=torch.float64))

    def means(self) -> list[Tensor]:
        return [b for name, b in self.named_buffers() if name != "count"]

    def penalty(self, net: nn.Module) -> Tensor:
        return sum((p - m).pow(2).sum() for p, m in zip(net.parameters(), self.means()))

    @torch.no_grad()
    def update(self, net: nn.Module) -> None:
        self.count += 1
        weight = 1 / self.count  # a device scalar: no host sync
        for p, m in zip(net.parameters(), self.means()):
            m.lerp_(p, weight.to(m.dtype))


def noise_std(initial: float, step: int, steps: int) -> float:
    """Instance noise's std, annealed linearly from `initial` to 0 at `steps`."""
    return initial * max(0.0, 1.0 - step / max(steps, 1))


class Stabilisers:
    """The switched-on stabilisers of one recipe: inputs to D, extra loss terms, per-step upkeep.

    Built before the recipe's optimisers (minibatch discrimination adds weights to D) and after
    its networks; the state it keeps is registered in `recipe.modules` so checkpoints hold it.
    """

    def __init__(
        self,
        cfg: Config,
        modules: dict[str, nn.Module],
        shape: tuple[int, ...],
        rng: torch.Generator,
    ) -> None:
        check(cfg)
        self.s, self.rng, self.modules = cfg.stabilisers, rng, modules
        self.on = active_stabilisers(cfg)
        self.smoothed: Game | None = None  # the game with label smoothing, made on first use
        self.noise_step: int | None = None  # a Python copy of the instance-noise clock
        self.noise_steps = self.s.instance_noise_steps or cfg.train.steps
        g, d = modules["g"], modules["d"]
        if self.s.minibatch_discrimination:
            add_minibatch_discrimination(d, self.s.minibatch_discrimination, shape)
        self.head = head_of(d) if self.s.feature_matching else None
        if self.s.historical_averaging:
            modules.update(hist_g=HistoricalAverage(g), hist_d=HistoricalAverage(d))
        if self.s.instance_noise:
            modules["stabilisers"] = RecipeState(step=0)
        if self.s.ada:
            check_images(shape)
            modules["ada"] = AdaptiveAugment(**self.s.ada)
        device = next(d.parameters()).device
        for name in ("hist_g", "hist_d", "stabilisers", "ada"):
            if name in modules:
                modules[name].to(device)

    def inputs(self, *batches: Tensor) -> tuple[Tensor, ...]:
        """What D sees of each batch: augmented and noised as switched on (unchanged if off)."""
        out = []
        for x in batches:
            if self.s.diffaugment:
                x = diff_augment(x, self.s.diffaugment, self.rng)
            if self.s.ada:
                x = self.modules["ada"](x, self.rng)
            if self.s.instance_noise:
                if self.noise_step is None:  # read once, after any resume restored the clock
                    self.noise_step = int(self.modules["stabilisers"].step)
                std = noise_std(self.s.instance_noise, self.noise_step, self.noise_steps)
                noise = torch.randn(x.shape, device=x.device, generator=self.rng, dtype=x.dtype)
                x = x + std * noise
            out.append(x)
        return tuple(out)

    def observe_real(self, real_logits: Tensor, paired: Tensor | None = None) -> dict[str, Tensor]:
        """After D's forward on the (augmented) real batch: ADA counts its logits' signs and
        adapts p; returns `ada_p` and `ada_rt` to log (nothing when ADA is off). A relativistic
        game passes the fakes' logits as `paired`: its D has no fixed zero (only differences
        enter the game), so D is sure of a real when it ranks it over its fake, D(x) - D(G(z)).

        The gradient penalty (loss.penalty) stays on the un-augmented reals, where StyleGAN2-ADA
        puts R1 on the augmented ones: a clean image is one that every transform skipped, so it
        is among what D trains on, and the penalty keeps one random stream and one cost whether
        ADA is on or off."""
        if not self.s.ada:
            return {}
        return self.modules["ada"].observe(real_logits if paired is None else real_logits - paired)

    def d_loss(self, game: Game) -> Callable[[Tensor, Tensor], Tensor]:
        """The D loss to use: the game's own, or with its real target smoothed."""
        if self.s.label_smoothing and self.smoothed is None:
            self.smoothed = game.with_label_smoothing(self.s.label_smoothing)
        return (self.smoothed or game).d_loss

    def d_terms(self) -> list[Tensor]:
        if not self.s.historical_averaging:
            return []
        d = self.modules["d"]
        return [self.s.historical_averaging * self.modules["hist_d"].penalty(d)]

    def g_terms(self, d: nn.Module, real: Tensor, fake: Tensor) -> list[Tensor]:
        """G's extra terms; feature matching runs D on a real batch (no grad) and on the fakes."""
        terms = []
        if self.s.feature_matching:
            with torch.no_grad():  # real seen as D sees it in its own step
                _, real_f = logits_and_features(d, self.inputs(real)[0], self.head)
            _, fake_f = logits_and_features(d, fake, self.head)
            terms.append(self.s.feature_matching * feature_matching(real_f, fake_f))
        if self.s.historical_averaging:
            g = self.modules["g"]
            terms.append(self.s.historical_averaging * self.modules["hist_g"].penalty(g))
        return terms

    def after_step(self) -> None:
        """Upkeep once per G step: the running weight means, the annealing clock."""
        if self.s.historical_averaging:
            self.modules["hist_g"].update(self.modules["g"])
            self.modules["hist_d"].update(self.modules["d"])
        if self.s.instance_noise:
            self.modules["stabilisers"].step.add_(1)  # on the device: no host sync
            self.noise_step = (self.noise_step or 0) + 1
