"""Readable grids: tiles upscaled by nearest neighbour to a size a person can see, labelled."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from gankit.viz import grid


def test_small_images_are_upscaled_by_an_integer_factor_to_at_least_min_tile():
    assert grid.scale_for(28) == 4 and grid.scale_for(16) == 6 and grid.scale_for(8) == 12
    assert grid.scale_for(64) == 2 and grid.scale_for(128) == 1
    for side in (8, 14, 16, 28, 32, 64):
        assert side * grid.scale_for(side) >= grid.MIN_TILE


def test_each_tile_is_its_image_with_every_pixel_a_square_block():
    images = torch.rand(3, 1, 8, 8, generator=torch.Generator().manual_seed(0)) * 2 - 1
    page = np.asarray(grid.readable_grid(images, nrow=3))
    f, gap = grid.scale_for(8), grid.GAP
    assert page.shape == (8 * f + 2 * gap, 3 * 8 * f + 4 * gap, 3)
    expected = ((images + 1) * 127.5).round().to(torch.uint8).numpy()
    for i in range(3):
        left = gap + i * (8 * f + gap)
        tile = page[gap : gap + 8 * f, left : left + 8 * f, 0]
        # nearest neighbour: each source pixel fills an f x f block, nothing blended in between
        assert np.array_equal(tile, np.kron(expected[i, 0], np.ones((f, f), dtype=np.uint8)))
    assert (page[:gap] == 255).all()  # a white margin


def test_labels_and_a_title_add_their_lines_and_are_drawn(tmp_path):
    images = torch.zeros(4, 3, 28, 28)
    path = grid.save_readable_grid(
        images, tmp_path / "g.png", 2, ["a", "b", "c\nd", "e"], "a title"
    )
    tile = 28 * grid.scale_for(28)
    with Image.open(path) as page:
        height = grid.LINE + grid.GAP + 2 * (tile + 2 * grid.LINE + grid.GAP) + grid.GAP
        assert page.size == (2 * tile + 3 * grid.GAP, height)
        strip = np.asarray(page)[grid.GAP : grid.LINE, :]
        assert (strip < 128).any()  # the title's ink
        under = np.asarray(page)[grid.LINE + 2 * grid.GAP + tile :][: 2 * grid.LINE]
        assert (under < 128).any()  # the first row's labels
