"""The checkerboard metric: a period-2 or period-4 pattern raises it, smooth images do not."""

import numpy as np
import torch
import torch.nn.functional as F

from gankit.diagnostics.checkerboard import checkerboard_share, upsampling_bins
from gankit.nets import build


def smooth_images(n: int = 64, side: int = 28) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    noise = torch.randn(n, 1, side + 8, side + 8, generator=g)
    return F.avg_pool2d(noise, 9, 1)[:, :, :side, :side]


def test_lattice_of_upsampling_frequencies():
    mask = upsampling_bins(28, 28, (2,))
    assert mask.sum() == 3 and mask[14, 14] and mask[0, 14] and mask[14, 0] and not mask[0, 0]
    assert upsampling_bins(28, 28, (2, 4)).sum() == 15  # the 4 x 4 lattice minus DC
    assert upsampling_bins(28, 28, (8,)).sum() == 0  # 28 has no whole period of 8


def test_checkerboard_pattern_raises_the_share():
    x = smooth_images()
    i = torch.arange(28)
    period2 = ((i[:, None] + i[None]) % 2 * 2 - 1).float()
    period4 = (((i // 2)[:, None] + (i // 2)[None]) % 2 * 2 - 1).float()
    base = checkerboard_share(x)
    assert base < 0.05
    assert checkerboard_share(x + 0.2 * period2) > base + 0.1
    assert checkerboard_share(x + 0.2 * period4) > base + 0.1
    assert checkerboard_share(x + 0.2 * period4, periods=(2,)) < checkerboard_share(
        x + 0.2 * period4
    )


def test_uint8_arrays_and_tensors_agree():
    x = smooth_images().clamp(-1, 1)
    as_uint8 = ((x + 1) * 127.5).round().to(torch.uint8).numpy()
    assert abs(checkerboard_share(as_uint8) - checkerboard_share(x)) < 0.01
    assert isinstance(checkerboard_share(np.zeros((2, 1, 8, 8), np.uint8)), float)


def test_untrained_transposed_convolution_leaves_more_marks_than_resize():
    torch.manual_seed(0)
    z = torch.randn(64, 16)
    shares = {}
    for upsample in ("transpose", "nearest"):
        g = build("dcgan", "g", (1, 28, 28), 16, width=16, upsample=upsample).eval()
        with torch.no_grad():
            shares[upsample] = checkerboard_share(g(z))
    assert shares["transpose"] > shares["nearest"], shares
