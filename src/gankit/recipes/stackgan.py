"""StackGAN (Zhang et al. 2017): text to image in two stages, on the shared engine.

One step trains both stages at once:
  e  = text(captions)                      (the encoder learns only from D's matching loss)
  x1 = G1(z, c1),  c1 ~ CA1(e)             stage I, at 1/factor of the full side
  x2 = G2(x1, c2), c2 ~ CA2(e)             stage II refines x1 (detached: stage I is trained
                                            by D1 alone, as when StackGAN trains it first)
  D1, D2 matching-aware: real image + its caption is real; a generated image, or a real image
  with a wrong caption (the next caption in the batch), is fake.
G's loss adds kl_weight * KL(CA || N(0, I)) for both stages.
With match_weight > 0, each D also learns to pick every real image's own caption out of the batch
(AttnGAN's sentence-level matching loss), and G is asked the same of its images: a direct push
towards the caption, which the real/fake logit alone gives only weakly.
With snap > 0, a caption given at generation time is first moved onto the training captions
nearest it in the encoder's space (a softmax over cosines at that temperature), so that an
unseen phrasing reaches G as a mix of phrasings G was trained on (nets.text.CaptionMemory).

The batch carries caption ids (data.captions); the run's captions are tokenised once, on the first
step, so no step reads anything back from the device (nets.text: `lookup`, CaptionMemory.see).

Runs in one process (the discriminators' two-part calls do not go through DDP).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gankit import nets
from gankit.config import Config
from gankit.core import distributed
from gankit.data import BatchStream, DataSpec
from gankit.data.captions import default_prompts
from gankit.errors import BadInput
from gankit.losses import Game, d_output_mean
from gankit.nets.stackgan import kl_to_standard_normal
from gankit.nets.text import CaptionMemory, build_encoder
from gankit.recipes.base import RECIPES, Recipe, read_options

OPTIONS = {
    "encoder": "bag",  # bag (trainable, default) | minilm (pretrained, optional extra)
    "text_dim": 64,  # the trainable encoder's output size (minilm's is 384)
    "c_dim": 32,  # size of the conditioning-augmentation code
    "kl_weight": 1.0,  # lambda of the KL term (the paper's 1)
    "factor": 2,  # stage II's upscaling: stage I works at side / factor
    "match_weight": 0.0,  # weight of the sentence-matching loss (0: StackGAN's losses only)
    "snap": 0.0,  # > 0: generate from the training captions nearest the given one (temperature)
}
MATCH_GAMMA = 10.0  # AttnGAN's gamma_3: the softmax over cosines is sharpened by this factor


def matching_d_loss(game: Game, real: Tensor, fake: Tensor, wrong: Tensor) -> Tensor:
    """D's loss with mismatched pairs (GAN-CLS, Reed et al. 2016): half the fake term on generated
    images, half on real images with wrong text; for the separable games here that is the mean of
    the game's loss on (real, fake) and on (real, wrong)."""
    return 0.5 * (game.d_loss(real, fake) + game.d_loss(real, wrong))


def sentence_matching_loss(similarity: Tensor, e: Tensor) -> Tensor:
    """Cross-entropy of each image choosing its caption among the batch's and each caption its
    image (softmax over MATCH_GAMMA * cosine); identical captions in the batch all count as right.
    """
    same = (e[:, None] == e[None]).all(-1).float()
    target = same / same.sum(1, keepdim=True)
    logits = MATCH_GAMMA * similarity
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))


@RECIPES.register("stackgan")
class StackGAN(Recipe):
    """StackGAN: text encoder, conditioning augmentation, stage I + II, matching-aware D's."""

    ema_of = ("g1", "g2")

    def __init__(self, cfg: Config, spec: DataSpec, device: torch.device) -> None:
        super().__init__(cfg, spec, device)
        self.opts = read_options(cfg, OPTIONS)
        self._check(cfg, spec)
        channels, side = spec.shape[0], spec.shape[1]
        self.low_side = side // self.opts["factor"]
        self.modules["text"] = build_encoder(self.opts["encoder"], self.opts["text_dim"]).to(device)
        self.modules["memory"] = CaptionMemory().to(device)
        self._vocabulary: list[str] | None = None  # the training captions, once tokenised
        self._encode: Callable[[Tensor], Tensor] | None = None  # caption ids -> embeddings
        low = (channels, self.low_side, self.low_side)
        self.modules.update(
            g1=self._net("g", 1, low),
            g2=self._net("g", 2, spec.shape),
            d1=self._net("d", 1, low),
            d2=self._net("d", 2, spec.shape),
        )
        m = self.modules
        self.optimizers.update(
            g=self.optimizer(nn.ModuleList([m["g1"], m["g2"]]), cfg.optim.lr_g),
            d=self.optimizer(nn.ModuleList([m["d1"], m["d2"], m["text"]]), cfg.optim.lr_d),
        )

    def _check(self, cfg: Config, spec: DataSpec) -> None:
        if not spec.name.startswith("captions") or spec.kind != "image":
            raise BadInput(
                f'recipe stackgan trains on captioned images, not "{spec.name}": set data.name: '
                f"captions (data.options.base: fashion-mnist | digits, or a captions_file)."
            )
        if (cfg.nets.g, cfg.nets.d) != ("stackgan", "stackgan"):
            raise BadInput(
                "recipe stackgan needs its own networks: set nets.g and nets.d: stackgan."
            )
        if cfg.loss.penalty not in ("auto", "none") or self.game.default_penalty:
            raise BadInput(
                "recipe stackgan has no gradient penalty or clipping: use loss.penalty: none and "
                "a game without one (non-saturating, minimax, lsgan, hinge)."
            )
        if self.opts["snap"] < 0:
            raise BadInput(
                f"recipe_options.snap {self.opts['snap']}: give a temperature > 0 (e.g. 0.03), "
                "or 0 to switch the caption lookup off."
            )
        if distributed.world() > 1:
            raise BadInput("recipe stackgan runs in one process: run it without torchrun.")
        if spec.shape[1] % self.opts["factor"]:
            raise BadInput(
                f"recipe_options.factor {self.opts['factor']} does not divide the image side "
                f"{spec.shape[1]}: use 2 or 4 with data.size 28, 32 or 64."
            )

    def _net(self, role: str, stage: int, shape: tuple[int, ...]) -> nn.Module:
        n = self.cfg.nets
        options = dict(n.g_options if role == "g" else n.d_options)
        net = nets.build(
            "stackgan",
            role,
            shape,
            n.z_dim,
            stage=stage,
            text_dim=self.modules["text"].dim,
            c_dim=self.opts["c_dim"],
            factor=self.opts["factor"],
            **({"match": self.opts["match_weight"] > 0} if role == "d" else {}),
            **options,
        )
        return net.to(self.device)

    # -- training ---------------------------------------------------------------------------
    def eps(self, n: int) -> Tensor:
        """Conditioning-augmentation noise, from the run's stream (so resume is exact)."""
        return distributed.draw("normal", (n, self.opts["c_dim"]), self.rng, self.device)

    def draw(self, stream: BatchStream) -> tuple[Tensor, Tensor, Tensor]:
        """(real at stage I's side, real, caption embeddings e); the text encoder's graph is
        kept, since it learns from D's loss."""
        real, ids = stream.next()
        if stream.ds.vocabulary is not self._vocabulary:  # the first step: tokenise them once
            self._vocabulary = stream.ds.vocabulary
            self._encode = self.modules["text"].lookup(self._vocabulary)
            self.modules["memory"].watch(self._vocabulary)
        self.modules["memory"].see(ids)
        e = self._encode(ids)
        real_low = F.interpolate(real, size=self.low_side, mode="bilinear", antialias=True)
        return real_low, real, e

    def fake(self, batch: tuple[Tensor, Tensor, Tensor]) -> list[tuple[Tensor, Tensor, Tensor]]:
        return self.forward_g(self.noise(len(batch[1])), batch[2].detach(), train=True)

    def forward_g(
        self, z: Tensor, e: Tensor, train: bool, ema: bool = True
    ) -> list[tuple[Tensor, Tensor, Tensor]]:
        """[(x1, mu1, logvar1), (x2, mu2, logvar2)]; codes are sampled in training, the mean
        otherwise (with the EMA generators when there are and `ema`)."""
        n, ema = len(z), ema and not train
        g1, g2 = self.generator_net("g1", ema), self.generator_net("g2", ema)
        first = g1(z, e, self.eps(n) if train else None)
        second = g2(first[0].detach(), e, self.eps(n) if train else None)
        return [first, second]

    def d_loss(self, batch: tuple[Tensor, Tensor, Tensor], fakes: list) -> tuple[Tensor, dict]:
        """Each D minimises the matching-aware loss (+ match_weight * sentence matching)."""
        *reals, e = batch
        wrong = e.roll(1, 0)  # each image with its neighbour's caption: a mismatched pair
        loss, stats = torch.zeros((), device=self.device), {}
        for stage, (real, (fake, _, _)) in enumerate(zip(reals, fakes), 1):
            d = self.modules[f"d{stage}"]
            h = d.features(real)  # one pass over the real images serves both of their pairs
            real_logit, wrong_logit = d.joint(h, e), d.joint(h, wrong)
            fake_logit = d(fake, e)
            part = matching_d_loss(self.game, real_logit, fake_logit, wrong_logit)
            loss = loss + part
            stats[f"d{stage}_loss"] = part.detach()
            if self.opts["match_weight"] > 0:
                match = sentence_matching_loss(d.similarity(h, e), e)
                loss = loss + self.opts["match_weight"] * match
                stats[f"d{stage}_match"] = match.detach()
        judged = self.d_outputs(real_logit, fake_logit)
        return loss, stats | judged | {"d_wrong": d_output_mean(self.game, wrong_logit.detach())}

    def g_loss(self, batch: tuple[Tensor, Tensor, Tensor], fakes: list) -> tuple[Tensor, dict]:
        """G minimises both stages' game losses + kl_weight * KL (+ match_weight * matching)."""
        e = batch[2].detach()
        adversarial, kl = [], torch.zeros((), device=self.device)
        match = torch.zeros((), device=self.device)
        for stage, (fake, mu, logvar) in enumerate(fakes, 1):
            d = self.modules[f"d{stage}"]
            h = d.features(fake)
            adversarial.append(self.game.g_loss(d.joint(h, e)))
            kl = kl + kl_to_standard_normal(mu, logvar)
            if self.opts["match_weight"] > 0:
                match = match + sentence_matching_loss(d.similarity(h, e), e)
        loss = sum(adversarial) + self.opts["kl_weight"] * kl + self.opts["match_weight"] * match
        return loss, {
            "g1_loss": adversarial[0].detach(),
            "g2_loss": adversarial[1].detach(),
            "kl": kl.detach(),
        } | ({"g_match": match.detach()} if self.opts["match_weight"] > 0 else {})

    # -- using ------------------------------------------------------------------------------
    @torch.no_grad()
    def generate(self, z: Tensor, labels: Tensor | None = None, ema: bool = True) -> Tensor:
        """Samples for the engine's grids and `gankit sample`: the classes' names in turn."""
        return self.generate_from_text(z, default_prompts(self.cfg.data, len(z)), ema=ema)

    @torch.no_grad()
    def generate_from_text(
        self,
        z: Tensor,
        texts: list[str],
        stage: int = 2,
        ema: bool = True,
        snap: float | None = None,
    ) -> Tensor:
        """Images in [-1, 1] at the full side for the captions `texts` (one per latent); stage 1
        gives stage I's images, upsampled (bilinear) to the full side for comparison. `snap`
        (None: recipe_options.snap) > 0 moves each caption onto the nearest training captions."""
        snap = self.opts["snap"] if snap is None else snap
        if snap < 0:  # every caller (gankit generate, bench/text.py, the API) is checked here
            raise BadInput(
                f"--snap {snap}: give a temperature > 0 (e.g. 0.03), or 0 to switch it off."
            )
        if len(texts) != len(z):
            raise ValueError(f"{len(texts)} captions for {len(z)} latents")
        modes = {name: m.training for name, m in self.modules.items()}
        for m in self.modules.values():
            m.eval()
        try:
            e = self.modules["text"](texts)
            if snap > 0:
                e = self.modules["memory"].snap(e, self.modules["text"], snap)
            fakes = self.forward_g(z, e, train=False, ema=ema)
        finally:
            for name, m in self.modules.items():
                m.train(modes[name])
        if stage == 1:
            return F.interpolate(fakes[0][0], size=self.spec.shape[1], mode="bilinear")
        return fakes[1][0]
