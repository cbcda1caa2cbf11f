"""The FID Inception network (pt_inception-2015-12-05): the Inception-v3 graph FID is defined on.

FID as published (TTUR, and pytorch-fid, torch-fidelity, torchmetrics and StyleGAN's tools after
it) uses the 2015-12-05 TensorFlow Inception graph, which differs from torchvision's Inception-v3
in three places that change the features: its average pools ignore the zero padding (TF's
`AvgPool` with SAME padding divides by the number of real pixels: count_include_pad=False), the
pool branch of the last mixed block takes a max, not an average, and its classifier has 1008
outputs. Every convolution is conv (no bias) -> batch norm (scale 1, eps 1e-3) -> ReLU.

Parameter names follow the layout pytorch-fid and torch-fidelity save their weights in, so their
state dicts load as they are. Input: (N, 3, 299, 299) floats in [-1, 1]; output: the 2048-d pool
features, and 1008 logits when the classifier weights are present.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

# A branch is a sequence of steps applied in turn: a conv's name, a pool, or a list of conv names
# applied side by side to the same input and concatenated (the 1x3 / 3x1 pairs of the last blocks).
# A mixed block concatenates its branches' outputs along the channels.
AVG, MAX, MAX_DOWN = "avg 3x3", "max 3x3", "max 3x3 stride 2"
Conv = tuple  # (name, in, out, kernel, stride, padding)


class ConvBN(nn.Module):
    def __init__(self, cin: int, cout: int, kernel, stride=1, padding=0) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, stride, padding, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=1e-3)

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(self.bn(self.conv(x)))


class Mixed(nn.Module):
    """Parallel branches, concatenated; convs are registered in branch order (the weights')."""

    def __init__(self, branches: list[list]) -> None:
        super().__init__()
        self.plan = []
        for branch in branches:
            steps = []
            for step in branch:
                if isinstance(step, str):
                    steps.append(step)
                    continue
                convs = step if isinstance(step, list) else [step]
                for name, *spec in convs:
                    self.add_module(name, ConvBN(*spec))
                steps.append([c[0] for c in convs])
            self.plan.append(steps)

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([self._branch(steps, x) for steps in self.plan], 1)

    def _branch(self, steps: list, x: Tensor) -> Tensor:
        for step in steps:
            if step == AVG:
                x = F.avg_pool2d(x, 3, 1, 1, count_include_pad=False)
            elif step == MAX:
                x = F.max_pool2d(x, 3, 1, 1)
            elif step == MAX_DOWN:
                x = F.max_pool2d(x, 3, 2)
            else:
                x = torch.cat([getattr(self, name)(x) for name in step], 1)
        return x


def block_a(cin: int, pool: int) -> list[list]:
    """35x35: 1x1 | 1x1 -> 5x5 | 1x1 -> 3x3 -> 3x3 | avg pool -> 1x1."""
    return [
        [("branch1x1", cin, 64, 1)],
        [("branch5x5_1", cin, 48, 1), ("branch5x5_2", 48, 64, 5, 1, 2)],
        [
            ("branch3x3dbl_1", cin, 64, 1),
            ("branch3x3dbl_2", 64, 96, 3, 1, 1),
            ("branch3x3dbl_3", 96, 96, 3, 1, 1),
        ],
        [AVG, ("branch_pool", cin, pool, 1)],
    ]


def block_b(cin: int) -> list[list]:
    """35x35 -> 17x17: strided 3x3 | 1x1 -> 3x3 -> strided 3x3 | strided max pool."""
    return [
        [("branch3x3", cin, 384, 3, 2)],
        [
            ("branch3x3dbl_1", cin, 64, 1),
            ("branch3x3dbl_2", 64, 96, 3, 1, 1),
            ("branch3x3dbl_3", 96, 96, 3, 2),
        ],
        [MAX_DOWN],
    ]


def block_c(cin: int, c7: int) -> list[list]:
    """17x17, 7x7 convs factored into 1x7 and 7x1."""
    row, col = ((1, 7), 1, (0, 3)), ((7, 1), 1, (3, 0))
    return [
        [("branch1x1", cin, 192, 1)],
        [
            ("branch7x7_1", cin, c7, 1),
            ("branch7x7_2", c7, c7, *row),
            ("branch7x7_3", c7, 192, *col),
        ],
        [
            ("branch7x7dbl_1", cin, c7, 1),
            ("branch7x7dbl_2", c7, c7, *col),
            ("branch7x7dbl_3", c7, c7, *row),
            ("branch7x7dbl_4", c7, c7, *col),
            ("branch7x7dbl_5", c7, 192, *row),
        ],
        [AVG, ("branch_pool", cin, 192, 1)],
    ]


def block_d(cin: int) -> list[list]:
    """17x17 -> 8x8."""
    return [
        [("branch3x3_1", cin, 192, 1), ("branch3x3_2", 192, 320, 3, 2)],
        [
            ("branch7x7x3_1", cin, 192, 1),
            ("branch7x7x3_2", 192, 192, (1, 7), 1, (0, 3)),
            ("branch7x7x3_3", 192, 192, (7, 1), 1, (3, 0)),
            ("branch7x7x3_4", 192, 192, 3, 2),
        ],
        [MAX_DOWN],
    ]


def block_e(cin: int, pool: str) -> list[list]:
    """8x8 with 1x3 / 3x1 pairs side by side; `pool` is AVG in Mixed_7b and MAX in Mixed_7c."""

    def pair(prefix: str, c: int) -> list[Conv]:
        return [
            (f"{prefix}a", c, 384, (1, 3), 1, (0, 1)),
            (f"{prefix}b", c, 384, (3, 1), 1, (1, 0)),
        ]

    return [
        [("branch1x1", cin, 320, 1)],
        [("branch3x3_1", cin, 384, 1), pair("branch3x3_2", 384)],
        [
            ("branch3x3dbl_1", cin, 448, 1),
            ("branch3x3dbl_2", 448, 384, 3, 1, 1),
            pair("branch3x3dbl_3", 384),
        ],
        [pool, ("branch_pool", cin, 192, 1)],
    ]


class FIDInception(nn.Module):
    """(N, 3, 299, 299) in [-1, 1] -> (N, 2048) pool features; logits() gives 1008 classes."""

    def __init__(self, classifier: bool = False) -> None:
        super().__init__()
        self.Conv2d_1a_3x3 = ConvBN(3, 32, 3, 2)
        self.Conv2d_2a_3x3 = ConvBN(32, 32, 3)
        self.Conv2d_2b_3x3 = ConvBN(32, 64, 3, 1, 1)
        self.Conv2d_3b_1x1 = ConvBN(64, 80, 1)
        self.Conv2d_4a_3x3 = ConvBN(80, 192, 3)
        self.Mixed_5b = Mixed(block_a(192, 32))
        self.Mixed_5c = Mixed(block_a(256, 64))
        self.Mixed_5d = Mixed(block_a(288, 64))
        self.Mixed_6a = Mixed(block_b(288))
        self.Mixed_6b = Mixed(block_c(768, 128))
        self.Mixed_6c = Mixed(block_c(768, 160))
        self.Mixed_6d = Mixed(block_c(768, 160))
        self.Mixed_6e = Mixed(block_c(768, 192))
        self.Mixed_7a = Mixed(block_d(768))
        self.Mixed_7b = Mixed(block_e(1280, AVG))
        self.Mixed_7c = Mixed(block_e(2048, MAX))
        self.fc = nn.Linear(2048, 1008) if classifier else None

    def forward(self, x: Tensor) -> Tensor:
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = F.max_pool2d(x, 3, 2)
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))
        x = F.max_pool2d(x, 3, 2)
        for name in ("5b", "5c", "5d", "6a", "6b", "6c", "6d", "6e", "7a", "7b", "7c"):
            x = getattr(self, f"Mixed_{name}")(x)
        return x.mean((2, 3))

    def logits(self, features: Tensor) -> Tensor:
        """The 1008-way logits without the bias, as the original Inception Score code takes them."""
        assert self.fc is not None, "built without the classifier"
        return features @ self.fc.weight.T


def conv_layers(net: FIDInception) -> list[ConvBN]:
    """The 94 conv layers in the order the weights list them."""
    return [m for m in net.modules() if isinstance(m, ConvBN)]
