"""Semi-supervised GAN (Salimans et al. 2016, "Improved techniques for training GANs", section 5).

D is a (K+1)-way classifier with K class logits l(x) and the fake class's logit fixed at 0, so
P(real | x) = Z / (Z + 1) with Z = sum_k exp l_k(x): the real/fake logit is logsumexp(l(x)).
D minimises   CE(l(x_lab), y)                                   (few labelled images)
            + w [-E log P(real | x_unl) - E log P(fake | G(z))] (many unlabelled ones, and fakes)
G minimises   || E phi(x_unl) - E phi(G(z)) ||^2 / F             (feature matching on D's features)
D is the product: `gankit classify` scores images with its class head.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from gankit.config import Config
from gankit.data import BatchStream, DataSpec
from gankit.errors import BadInput
from gankit.losses import bce_d_loss
from gankit.recipes.base import RECIPES
from gankit.recipes.conditional import LabelledRecipe
from gankit.stabilisers import feature_matching


def supervised_loss(class_logits: Tensor, labels: Tensor) -> Tensor:
    """-E log p(y | x, not fake): softmax over the K real classes only."""
    return F.cross_entropy(class_logits, labels)


def unsupervised_loss(real_class_logits: Tensor, fake_class_logits: Tensor) -> Tensor:
    """-E log P(real | x) - E log P(fake | G(z)), with P(real) = sigmoid(logsumexp(l))."""
    return bce_d_loss(real_class_logits.logsumexp(1), fake_class_logits.logsumexp(1))


def pick_labelled(labels: Tensor, count: int, num_classes: int, seed: int) -> Tensor:
    """Indices of `count` labelled items, as balanced over classes as count allows."""
    g = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(labels), generator=g)
    shuffled = labels.cpu()[order]
    chosen = []
    for c in range(num_classes):
        wanted = count // num_classes + (c < count % num_classes)
        of_class = order[shuffled == c][:wanted]
        if len(of_class) < wanted:
            raise BadInput(
                f"recipe_options.labelled = {count} asks for {wanted} images of class {c}, "
                f"but the training set has {len(of_class)}: lower recipe_options.labelled."
            )
        chosen.append(of_class)
    return torch.cat(chosen)


@RECIPES.register("semi-supervised")
class SemiSupervised(LabelledRecipe):
    """SGAN (Salimans et al.): D a K+1-way classifier trained on few labels; G matches features."""

    head = "classes"
    conditional = False  # G(z) is unconditional; the classifier is D
    options = {
        "labelled": 100,  # labelled training images, balanced over the classes
        "unsupervised_weight": 0.5,  # w; 0.5 as in the paper's code (train_mnist_feature_matching)
    }

    def __init__(self, cfg: Config, spec: DataSpec, device: torch.device) -> None:
        super().__init__(cfg, spec, device)
        if self.opts["labelled"] < self.num_classes:
            raise BadInput(
                f"recipe_options.labelled = {self.opts['labelled']}: give at least one label per "
                f"class ({self.num_classes})."
            )
        self.G, self.D = self.build_net("g"), self.build_labelled("d")
        self.modules.update(g=self.G, d=self.D)
        self.add_optimizers()
        self.labelled: Tensor | None = None  # indices into the training set, chosen at first step

    def labelled_batch(self, stream: BatchStream) -> tuple[Tensor, Tensor]:
        """A batch drawn with replacement from the fixed labelled subset (chosen by the seed)."""
        if self.labelled is None:
            if stream.y is None:
                raise BadInput("recipe semi-supervised needs a dataset with labels.")
            self.labelled = pick_labelled(
                stream.y, self.opts["labelled"], self.num_classes, self.cfg.train.seed
            ).to(stream.x.device)
        pick = torch.randint(
            len(self.labelled), (stream.batch_size,), device=self.device, generator=self.rng
        )
        idx = self.labelled[pick.to(self.labelled.device)]
        return stream.ds.to_model_range(stream.x[idx]), stream.y[idx]

    def draw(self, stream: BatchStream) -> tuple[Tensor, Tensor, Tensor]:
        """(unlabelled batch, labelled batch, its labels); the stream's own labels go unread."""
        x_unl, _ = stream.next()
        return (x_unl, *self.labelled_batch(stream))

    def fake(self, batch: tuple[Tensor, Tensor, Tensor]) -> Tensor:
        return self.G(self.noise(len(batch[0])))

    def d_loss(self, batch: tuple[Tensor, Tensor, Tensor], fake: Tensor) -> tuple[Tensor, dict]:
        """D minimises CE(l(x_lab), y) + w [-E log P(real | x_unl) - E log P(fake | G(z))]."""
        x_unl, x_lab, y = batch
        lab_logits = self.D.classify(x_lab)
        l_sup = supervised_loss(lab_logits, y)
        l_unsup = unsupervised_loss(self.D.classify(x_unl), self.D.classify(fake))
        loss = l_sup + self.opts["unsupervised_weight"] * l_unsup
        return loss, {
            "d_supervised": l_sup.detach(),
            "d_unsupervised": l_unsup.detach(),
            "d_train_acc": (lab_logits.argmax(1) == y).float().mean(),
        }

    def g_loss(self, batch: tuple[Tensor, Tensor, Tensor], fake: Tensor) -> tuple[Tensor, dict]:
        """G minimises || E phi(x_unl) - E phi(G(z)) ||^2 / F."""
        with torch.no_grad():
            target = self.D.phi(batch[0])
        return feature_matching(target, self.D.phi(fake)), {}
