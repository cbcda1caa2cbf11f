"""Translation benchmarks, each a short CPU training run measured on held-out data with
gankit's own evaluator classifier (features for FID, classes for "class kept").

    python bench/translation.py [--budget 150 | --steps 2000] [--n 2000] [--only pix2pix,...]

pix2pix   edges -> Fashion-MNIST: L1 and FID of G(edges) against the test items, for the GAN and
          for an L1-only U-Net (recipe_options.adversarial=false) given the same budget (wall-clock
          seconds, or steps; each run's wall time is reported either way). Also the share of
          G(edges) keeping the item's class: what a translator trained on pairs keeps of the
          class through edges, the bar for the unpaired edges -> plain of stargan.
          `--only pix2pix-gan` or `pix2pix-l1_only` trains one side, so that two invocations
          can train the pair at the same time.
cyclegan  items <-> inverted items: cycle error |G_BA(G_AB(x)) - x|; inverted test items -> items:
          FID against the test items and the share whose evaluator class is the item's own.
stargan   the config's domains (plain, inverted, ...): the same, translating the test items shown
          in each other domain to plain; cycle error plain -> inverted -> plain.
cogan     digits and negatives: the share of pairs (one z) whose two images get the same class
          (the negative inverted back first).
domain-ceiling  (only when named) the evaluator's CNN trained 2 epochs on each domain's images
          (plain, inverted, edges, blurred) and tested on the domain: the class each keeps.
Prints one JSON object per benchmark, then a markdown table.
"""

from __future__ import annotations

import argparse
import json
import sys
from functools import partial
from pathlib import Path

import torch

from gankit import api, data
from gankit.config import DataConfig
from gankit.data.translation import TRANSFORMS, edges, inverted
from gankit.metrics import evaluator
from gankit.metrics.distances import fid

sys.path.insert(0, str(Path(__file__).resolve().parent))
import records  # noqa: E402  (bench/ is a folder of scripts, not a package)

CONFIGS = Path(__file__).resolve().parent.parent / "configs"


Budget = dict  # {"seconds": s} or {"steps": n}: what stops every training run


OVERRIDES: list[str] = []  # --set KEY=VALUE, applied to every run


def train(name: str, out: Path, budget: Budget, extra: tuple[str, ...] = ()) -> api.LoadedRun:
    """A run of configs/NAME.yaml stopped by the budget (and --set overrides); its recipe."""
    if "steps" in budget:
        length = [f"train.steps={budget['steps']}"]
    else:
        length = ["train.steps=1000000", f"train.budget_s={budget['seconds']}"]
    api.train(CONFIGS / f"{name}.yaml", out, [*length, "train.progress=false", *OVERRIDES, *extra])
    return api.load(out)


def wall_s(run: Path) -> float:
    """Training seconds of a run, from its log."""
    lines = (run / "metrics.jsonl").read_text().splitlines()
    return max(json.loads(line).get("time_s", 0.0) for line in lines)


def model_range(x: torch.Tensor) -> torch.Tensor:
    return x.float().div(127.5).sub(1.0)


def chunked(fn, x: torch.Tensor, size: int = 500) -> torch.Tensor:
    return torch.cat([fn(part) for part in x.split(size)])


def embed(ev: evaluator.Evaluator, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Model-range images -> the evaluator's (features, class probabilities)."""
    return ev.embed(api.to_uint8(x))


def own_evaluator(name: str, auto_train: bool = False) -> evaluator.Evaluator | None:
    """The cached evaluator, or None: the FID and class numbers are then left out, not faked."""
    try:
        return evaluator.load(DataConfig(name, 28, 1), 1, auto_train=auto_train)
    except Exception as e:  # not trained yet: `gankit evaluator train --dataset NAME`
        print(f"no evaluator for {name} ({e}); FID and classes are skipped", file=sys.stderr)
        return None


def base_test(name: str, n: int) -> data.Dataset:
    ds = data.build(DataConfig(name, 28, 1), "test")
    return data.Dataset(name, ds.x[:n], "image", ds.y[:n], ds.class_names)


def translated_scores(ev, recipe, inputs: torch.Tensor, to: str, items, real_feats) -> dict:
    """FID of the translations against the real items and the share keeping the item's class."""
    if ev is None:
        return {}
    out = chunked(lambda x: recipe.translate(x, to), model_range(inputs))
    feats, probs = embed(ev, out)
    return {"fid": round(fid(real_feats, feats), 3), "class_kept": class_kept(probs, items.y)}


def class_kept(probs: torch.Tensor, classes: torch.Tensor) -> float:
    """The share of translations that the evaluator gives their item's own class."""
    return round(float((probs.argmax(1) == classes).float().mean()), 4)


PIX2PIX_ARMS = {"gan": (), "l1_only": ("recipe_options.adversarial=false",)}


def bench_pix2pix(
    out: Path, budget: Budget, n: int, arms: tuple[str, ...] = tuple(PIX2PIX_ARMS)
) -> dict:
    items = base_test("fashion-mnist", n)
    ev = own_evaluator("fashion-mnist")
    real_feats = embed(ev, model_range(items.x))[0] if ev else None
    result = {"benchmark": "pix2pix edges -> fashion-mnist", "budget": budget, "n": n}
    for label in arms:
        extra = PIX2PIX_ARMS[label]
        loaded = train("pix2pix-edges-fashion", out / f"pix2pix-{label}", budget, extra)
        fake = chunked(partial(loaded.recipe.translate, to="B"), model_range(edges(items.x)))
        result[label] = {
            "steps": loaded.step,
            "wall_s": wall_s(out / f"pix2pix-{label}"),
            "l1": round(float((fake - model_range(items.x)).abs().mean()), 4),
        }
        if ev is not None:
            feats, probs = embed(ev, fake)
            result[label]["fid"] = round(fid(real_feats, feats), 3)
            result[label]["class_kept"] = class_kept(probs, items.y)
    return result


def bench_cycle(config: str, out: Path, budget: Budget, n: int, forth: str, back: str):
    """Train a two-way translator; the held-out items, evaluator, reference features, the run and
    the cycle record (items -> `forth` -> `back`, L1 against the items) that both benches share."""
    items = base_test("fashion-mnist", n)
    ev = own_evaluator("fashion-mnist")
    real_feats = embed(ev, model_range(items.x))[0] if ev else None
    run = out / config.split("-")[0]
    loaded = train(config, run, budget)
    r = loaded.recipe
    x = model_range(items.x)
    again = chunked(lambda v: r.translate(r.translate(v, forth), back), x)
    record = {
        "budget": budget,
        "steps": loaded.step,
        "wall_s": wall_s(run),
        "n": n,
        "cycle_l1": round(float((again - x).abs().mean()), 4),
    }
    return items, ev, real_feats, r, record


def bench_cyclegan(out: Path, budget: Budget, n: int) -> dict:
    items, ev, real_feats, r, record = bench_cycle("cyclegan-fashion", out, budget, n, "B", "A")
    return (
        {"benchmark": "cyclegan fashion-mnist <-> inverted"}
        | record
        | {
            "inverted_to_item": translated_scores(ev, r, inverted(items.x), "A", items, real_feats),
        }
    )


def bench_stargan(out: Path, budget: Budget, n: int) -> dict:
    items, ev, real_feats, r, record = bench_cycle(
        "stargan-fashion", out, budget, n, "inverted", "plain"
    )
    to_plain = {
        f"{domain}_to_plain": translated_scores(
            ev, r, TRANSFORMS[domain](items.x), "plain", items, real_feats
        )
        for domain in r.domains
        if domain != "plain"
    }
    return {"benchmark": f"stargan fashion-mnist {' / '.join(r.domains)}"} | record | to_plain


def bench_cogan(out: Path, budget: Budget, n: int) -> dict:
    ev = own_evaluator("digits", auto_train=True)  # a small set: trained on the spot if missing
    loaded = train("cogan-digits", out / "cogan", budget)
    pairs = torch.from_numpy(api.sample(loaded, n, seed=1)["images"])  # (n, 1, 28, 56): A | B
    a, b = pairs[..., :28], 255 - pairs[..., 28:]  # the negative inverted back
    agree = ev.embed(a)[1].argmax(1) == ev.embed(b)[1].argmax(1) if ev else torch.tensor([])
    return {
        "benchmark": "cogan digits | negatives",
        "budget": budget,
        "steps": loaded.step,
        "wall_s": wall_s(out / "cogan"),
        "n": n,
        "pairs_same_class": round(float(agree.float().mean()), 4),
    }


def bench_domain_ceiling(out: Path, budget: Budget, n: int, epochs: int = 2) -> dict:
    """How much of the class each domain's images keep at all: the evaluator's CNN trained for
    `epochs` on the Fashion-MNIST train items shown in the domain, tested on n test items so
    shown. A translator into plain cannot keep more of the class than its input holds.
    (No GAN is trained: `out` and `budget` are unused.)"""
    train_items = data.build(DataConfig("fashion-mnist", 28, 1), "train")
    items = base_test("fashion-mnist", n)
    plain_ev = own_evaluator("fashion-mnist")  # trained on plain items: what it reads as-is
    result = {"benchmark": "class in each domain (classifier trained on it)", "epochs": epochs}
    for name, transform in TRANSFORMS.items():
        torch.manual_seed(0)
        net = evaluator.Classifier(1, 10)
        evaluator.fit(net, transform(train_items.x), train_items.y, epochs, 128, 0, False)
        shown = transform(items.x)
        trained = evaluator.accuracy(evaluator.Evaluator(net.eval(), {}), shown, items.y)
        result[name] = {"trained_on_it": round(trained, 4)}
        if plain_ev is not None:
            result[name]["evaluator_as_is"] = round(evaluator.accuracy(plain_ev, shown, items.y), 4)
    return result | {"n": n}


BENCHES = {
    "pix2pix": bench_pix2pix,
    "cyclegan": bench_cyclegan,
    "stargan": bench_stargan,
    "cogan": bench_cogan,
}
# One side of the pix2pix pair each: two invocations train the pair at the same time.
ONE_SIDE = {f"pix2pix-{arm}": partial(bench_pix2pix, arms=(arm,)) for arm in PIX2PIX_ARMS}
CHOICES = BENCHES | ONE_SIDE | {"domain-ceiling": bench_domain_ceiling}  # not in the default run


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    length = p.add_mutually_exclusive_group()
    length.add_argument("--budget", type=float, default=150.0, help="training seconds per run")
    length.add_argument("--steps", type=int, help="training steps per run (instead of seconds)")
    p.add_argument("--n", type=int, default=2000, help="held-out items per measurement")
    p.add_argument(
        "--only",
        default=",".join(BENCHES),
        help=f"comma-separated, of {', '.join(CHOICES)}",
    )
    p.add_argument("--out", default="runs/bench-translation", help="folder for the runs")
    p.add_argument("--set", action="append", default=[], help="KEY=VALUE for every run's config")
    records.argument(p, "translation")
    a = p.parse_args()
    OVERRIDES.extend(a.set)
    torch.manual_seed(0)
    results = []
    for name in a.only.split(","):
        budget = {"steps": a.steps} if a.steps else {"seconds": a.budget}
        result = CHOICES[name](Path(a.out), budget, a.n) | ({"set": a.set} if a.set else {})
        result = records.append(a.record, result)
        print(json.dumps(result), flush=True)
        results.append(result)
    print("\n| benchmark | result |\n|---|---|", file=sys.stdout)
    for r in results:
        body = {k: v for k, v in r.items() if k != "benchmark"}
        print(f"| {r['benchmark']} | `{json.dumps(body)}` |")


if __name__ == "__main__":
    main()
