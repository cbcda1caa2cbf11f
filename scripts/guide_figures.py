"""Regenerate every figure and number of the guide (docs/guide/) with real gankit runs.

    OMP_NUM_THREADS=1 .venv/bin/python scripts/guide_figures.py               # all chapters
    OMP_NUM_THREADS=1 .venv/bin/python scripts/guide_figures.py --only 05-lsgan-wgan

Each chapter function runs the `gankit` commands its chapter shows, as a user types them from the
repository root (runs go to runs/guide/CHAPTER/), with small budgets: the numbers are illustrative,
not converged results. Pictures go to docs/img/guide/, printed output and tables to
docs/guide/out/ (markdown, plus JSON for the tables); then every region

    <!-- out:NAME -->
    ...
    <!-- /out -->

of the chapters is replaced by snippet docs/guide/out/NAME.md, so the chapters quote exactly what
this script produced. The whole guide takes about 15 minutes on one CPU core.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from PIL import Image  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs/guide"
OUT = GUIDE / "out"
IMG = ROOT / "docs/img/guide"
RUNS = Path("runs/guide")  # relative to ROOT: the commands are shown as typed there
MARKER = re.compile(r"(<!-- out:(\S+) -->\n).*?(<!-- /out -->)", re.DOTALL)


@dataclass
class Ran:
    command: str  # as shown in the guide
    stdout: str
    stderr: str


class Chapter:
    """One chapter's runs: commands run for real, pictures and snippets saved under its name."""

    def __init__(self, name: str) -> None:
        self.name = name
        shutil.rmtree(ROOT / RUNS / name, ignore_errors=True)  # `gankit train` never overwrites
        (ROOT / RUNS / name).mkdir(parents=True)
        for old in [*OUT.glob(f"{name}-*"), *IMG.glob(f"{name}-*")]:  # nothing stale stays
            old.unlink()

    def run_dir(self, name: str) -> str:
        return str(RUNS / self.name / name)

    def gankit(self, *args: str) -> Ran:
        """`gankit ARGS`, exactly as a user would type it; stops the script if it fails."""
        shown = "gankit " + shlex.join(args)
        print(f"$ {shown}", flush=True)
        done = subprocess.run(
            [sys.executable, "-m", "gankit", *args], cwd=ROOT, capture_output=True, text=True
        )
        if done.returncode:
            sys.exit(f"{shown} failed with exit code {done.returncode}:\n{done.stderr[-3000:]}")
        return Ran(shown, done.stdout, done.stderr)

    def console(self, name: str, *runs: Ran, stderr: bool = False) -> str:
        """A snippet showing the commands and what they printed (the doctor's notes too)."""
        lines = []
        for r in runs:
            lines += [f"$ {r.command}", *r.stdout.rstrip().splitlines()]
            lines += doctor_notes(r.stderr) if stderr else []
        return self.snippet(name, "```text\n" + "\n".join(map(shorten, lines)) + "\n```")

    def figure(self, source: Path | str, name: str, alt: str) -> str:
        """Copy a picture into docs/img/guide/ (made small); returns its markdown."""
        target = IMG / f"{self.name}-{name}.png"
        store_png(ROOT / source, target)
        return f"![{alt}](../img/guide/{target.name})"

    def snippet(self, name: str, markdown: str) -> str:
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / f"{self.name}-{name}.md").write_text(markdown.rstrip() + "\n")
        return markdown

    def numbers(self, name: str, values: dict) -> dict:
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / f"{self.name}-{name}.json").write_text(json.dumps(values, indent=2) + "\n")
        return values

    def scratch(self, name: str) -> Path:
        """A file of this chapter's run folder, for pictures the script composes itself."""
        return ROOT / RUNS / self.name / name


# -- helpers -----------------------------------------------------------------------------------
def shorten(line: str, width: int = 150) -> str:
    """A train command's one-line metrics JSON, cut (the chapters tabulate its numbers)."""
    cut = line.startswith("  metrics: ") and len(line) > width
    return line[: width - 4] + " ..." if cut else line


def doctor_notes(stderr: str) -> list[str]:
    """The training doctor's messages (a first line, then indented lines) out of stderr."""
    notes, inside = [], False
    for line in stderr.splitlines():
        inside = line.startswith("gankit doctor") or (inside and line.startswith("  "))
        notes += [line] if inside else []
    return notes


def store_png(source: Path, target: Path) -> None:
    """Grey pictures as 8-bit grey, colour ones with a 256-colour palette: a third of the size."""
    image = Image.open(source).convert("RGB")
    r, g, b = image.split()
    gray = r.tobytes() == g.tobytes() == b.tobytes()
    small = image.convert("L") if gray else image.quantize(256)
    target.parent.mkdir(parents=True, exist_ok=True)
    small.save(target, optimize=True)


def records(run: str, key: str) -> list[dict]:
    """The training log records of a run that hold `key` (evaluation records hold others)."""
    lines = (ROOT / run / "metrics.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r.get(key) is not None]


def last_json(text: str) -> dict:
    return json.loads(text.strip().splitlines()[-1])


CURVE_NAMES = {"d_real": "D(x)", "d_fake": "D(G(z))", "m_global": "M_global"}


def plot_curves(path: Path, runs: dict[str, str], keys: list[str], title: str) -> Path:
    """One panel per key: the key over training steps, one line per run."""
    fig, axes = plt.subplots(1, len(keys), figsize=(3.6 * len(keys), 2.8), dpi=90, squeeze=False)
    for ax, key in zip(axes[0], keys):
        for label, run in runs.items():
            rs = records(run, key)
            ax.plot([r["step"] for r in rs], [r[key] for r in rs], label=label)
        ax.set(xlabel="generator step", title=CURVE_NAMES.get(key, key))
        ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def panels(path: Path, pictures: dict[str, Path | str], columns: int | None = None) -> Path:
    """Pictures side by side, each under its title."""
    columns = columns or len(pictures)
    rows = -(-len(pictures) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(2.6 * columns, 2.8 * rows), dpi=90)
    axes = list(getattr(axes, "flat", [axes]))
    for ax in axes:
        ax.axis("off")
    for ax, (title, picture) in zip(axes, pictures.items()):
        ax.imshow(Image.open(ROOT / picture).convert("RGB"), interpolation="nearest")
        ax.set_title(title, fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def npz_grid(npz: str, path: Path, nrow: int = 8) -> Path:
    """The images of a sample export (uint8 NCHW) as a PNG grid."""
    import numpy as np
    import torch
    from torchvision.utils import save_image

    images = torch.from_numpy(np.load(ROOT / npz)["images"]).float() / 255
    save_image(images, path, nrow=nrow, padding=1)
    return path


def fmt(value: float) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(map(fmt, row)) + " |" for row in rows])


def with_floors(scores: dict, names: list[str]) -> list[list]:
    """[metric, value, real-data floor] rows for the metrics a gankit eval reported."""
    return [[n, scores[n], scores.get(f"{n}_floor", "")] for n in names if n in scores]


def overrides(settings: list[str] | tuple[str, ...]) -> list[str]:
    """["a=1", "b=2"] -> ["--set", "a=1", "--set", "b=2"]"""
    return [arg for setting in settings for arg in ("--set", setting)]


def lab(ch: Chapter, name: str, *settings: str) -> tuple[Ran, str]:
    """Run `gankit lab NAME`; returns the run and its folder."""
    out = ch.run_dir(name)
    return ch.gankit("lab", name, "--out", out, *overrides(settings)), out


# -- the chapters ------------------------------------------------------------------------------
KEYS = ["fid", "kid", "is", "precision", "recall", "classes_seen", "class_kl"]  # tabulated scores


def minimax_mlp(ch: Chapter) -> None:
    od, od_dir = lab(ch, "optimal-d")
    ch.console("optimal-d", od)
    ch.snippet("optimal-d-plot", ch.figure(f"{od_dir}/optimal-d.png", "optimal-d", "D vs D*"))
    run = ch.run_dir("mlp")
    train = ch.gankit(
        "train", "configs/mlp-fashion.yaml", "--out", run, "--set", "train.steps=3000"
    )
    ch.console("mlp-train", train)
    curves = plot_curves(
        ch.scratch("curves.png"), {"mlp-fashion": run}, ["d_real", "d_fake"], "mlp-fashion"
    )
    ch.snippet(
        "mlp-pictures",
        ch.figure(f"{run}/samples/step-00003000.png", "mlp-samples", "MLP GAN samples")
        + "\n"
        + ch.figure(curves, "mlp-curves", "D(x) and D(G(z)) over training"),
    )


def non_saturating(ch: Chapter) -> None:
    sat, sat_dir = lab(ch, "saturation")
    ch.console("saturation", sat)
    ch.snippet(
        "saturation-plot", ch.figure(f"{sat_dir}/saturation.png", "saturation", "saturation")
    )


def dcgan(ch: Chapter) -> None:
    run = ch.run_dir("quickstart")
    train = ch.gankit("train", "configs/quickstart.yaml", "--out", run, "--set", "train.steps=600")
    ch.console("train", train)
    scores = records(run, "fid")[-1]
    ch.numbers("scores", scores)
    ch.snippet("scores", table(["metric", "value", "real-data floor"], with_floors(scores, KEYS)))
    latent = ch.gankit("latent", run, "--interpolate", "slerp")
    ch.console("latent", latent)
    ch.snippet(
        "pictures",
        ch.figure(f"{run}/samples/step-00000600.png", "samples", "DCGAN digits after 600 steps")
        + "\n"
        + ch.figure(f"{run}/latent/interpolate-slerp.png", "slerp", "slerp interpolation"),
    )


def mode_collapse_vanishing(ch: Chapter) -> None:
    mc, mc_dir = lab(ch, "mode-collapse", "steps=1500")
    ch.console("mode-collapse", mc)
    ch.snippet("mode-collapse-plot", ch.figure(f"{mc_dir}/mode-collapse.png", "modes", "modes"))
    run = ch.run_dir("ring-lr-0.02")
    sets = ["optim.lr_g=0.02", "optim.lr_d=0.02", "train.steps=1500"]
    train = ch.gankit("train", "configs/ring.yaml", "--out", run, *overrides(sets))
    ch.console("doctor", train, stderr=True)
    ch.snippet("doctor-plot", ch.figure(f"{run}/samples/step-00001500.png", "lr", "lr 0.02"))
    vg, vg_dir = lab(ch, "vanishing-gradients", "epochs=[1,10]", "d_iters=150")
    ch.console("vanishing", vg)
    plot = ch.figure(f"{vg_dir}/vanishing-gradients.png", "vanishing", "vanishing gradients")
    ch.snippet("vanishing-plot", plot)


RING_BUDGET = ["train.steps=2000", "optim.lr_g=1e-3", "optim.lr_d=1e-3"]
GAMES = {  # loss.name -> extra overrides (the papers' n_critic for the Wasserstein games)
    "non-saturating": [],
    "lsgan": [],
    "hinge": [],
    "wgan": ["train.n_critic=5"],
    "wgan-gp": ["train.n_critic=5"],
}


def lsgan_wgan(ch: Chapter) -> None:
    js, js_dir = lab(ch, "js-vs-wasserstein")
    ch.console("js-vs-w", js)
    ch.snippet("js-vs-w-plot", ch.figure(f"{js_dir}/js-vs-wasserstein.png", "js-w", "JS vs W"))
    rows, pictures, shown = [], {}, []
    for game, extra in GAMES.items():
        run = ch.run_dir(game)
        sets = [f"loss.name={game}", *RING_BUDGET, *extra]
        args = ["train", "configs/ring.yaml", "--out", run]
        done = ch.gankit(*args, *overrides(sets))
        shown.append(done.command)
        m = records(run, "modes")[-1]
        rows.append([game, f"{m['modes']:.0f} of 8", m["high_quality"], m["reverse_kl"]])
        pictures[game] = f"{run}/samples/step-00002000.png"
    ch.numbers("games", {r[0]: r[1:] for r in rows})
    ch.snippet("games-commands", "```bash\n" + "\n".join(shown) + "\n```")
    ch.snippet(
        "games",
        table(["loss.name", "modes captured", "high-quality share", "reverse KL"], rows)
        + "\n\n"
        + ch.figure(panels(ch.scratch("games.png"), pictures), "games", "ring per game"),
    )


def began(ch: Chapter) -> None:
    run = ch.run_dir("began-digits")
    sets = [
        "data.name=digits",
        "nets.g_options.width=16",
        "nets.d_options.width=16",
        "train.batch_size=32",
        "train.steps=200",
        "train.log_every=10",
    ]
    args = ["train", "configs/began-fashion.yaml", "--out", run]
    train = ch.gankit(*args, *overrides(sets))
    ch.console("train", train)
    curves = plot_curves(ch.scratch("curves.png"), {"BEGAN": run}, ["m_global", "k_t"], "BEGAN")
    first, last = records(run, "m_global")[0], records(run, "m_global")[-1]
    ch.numbers("m-global", {"first": first, "last": last})
    ch.snippet(
        "m-global",
        table(
            ["step", "M_global", "k_t"],
            [[r["step"], r["m_global"], r["k_t"]] for r in (first, last)],
        )
        + "\n\n"
        + ch.figure(curves, "curves", "M_global and k_t")
        + "\n"
        + ch.figure(f"{run}/samples/step-00000200.png", "samples", "BEGAN samples, 200 steps"),
    )


def conditional_ssl(ch: Chapter) -> None:
    cgan = ch.run_dir("cgan-digits")
    train = ch.gankit("train", "configs/cgan-digits.yaml", "--out", cgan)
    sample = ch.gankit("sample", cgan, "--n", "100", "--class", "7", "--out", f"{cgan}/sevens.npz")
    ch.console("cgan", train, sample)
    ch.snippet(
        "cgan-pictures",
        ch.figure(f"{cgan}/samples/classes-step-00001000.png", "cgan", "one row per class")
        + "\n"
        + ch.figure(npz_grid(f"{cgan}/sevens.npz", ch.scratch("sevens.png"), 10), "7s", "7s"),
    )
    rows = []
    for name, (learns_from, sets) in SGAN_VARIANTS.items():
        run = ch.run_dir(name)
        train = ch.gankit("train", "configs/sgan-digits.yaml", "--out", run, *overrides(sets))
        classify = ch.gankit("classify", run, "--input", "digits")
        ch.console(name, train, classify)
        rows.append([learns_from, last_json(classify.stdout)["accuracy"]])
    ch.numbers("accuracy", dict(rows))
    (_, sgan), (_, alone) = rows
    verdict = "higher than" if sgan > alone else "lower than" if sgan < alone else "the same as"
    ch.snippet(
        "accuracy",
        table(["D learns from", "test accuracy (360 digits)"], rows)
        + f"\n\nIn this run the SGAN's D scored {verdict} the D trained on the labels alone.",
    )


SGAN_VARIANTS = {  # run name -> (what D learns from, overrides)
    "sgan-digits": ("50 labelled digits + the unlabelled rest + G's fakes (SGAN)", []),
    "labels-only": (
        "the same 50 labelled digits only (`unsupervised_weight=0`)",
        ["recipe_options.unsupervised_weight=0"],
    ),
}


def evaluation(ch: Chapter) -> None:
    run = ch.run_dir("quickstart")
    metrics = ["--metrics", "fid", "kid", "is", "precision_recall", "classes"]
    train = ch.gankit("train", "configs/quickstart.yaml", "--out", run, "--set", "train.steps=300")
    early = ch.gankit("eval", run, "--n", "1000", *metrics)
    resume = ch.gankit("resume", run, "--set", "train.steps=1200")
    late = ch.gankit("eval", run, "--n", "1000", *metrics)
    sample = ch.gankit("sample", run, "--n", "1000", "--out", f"{run}/samples.npz")
    npz = ch.gankit("eval", f"{run}/samples.npz", "--dataset", "digits", "--metrics", "fid")
    a, b = last_json(early.stdout), last_json(late.stdout)
    ch.numbers("eval", {"step_300": a, "step_1200": b, "npz": last_json(npz.stdout)})
    shown = "\n".join(r.command for r in (train, early, resume, late))
    ch.snippet("commands", f"```bash\n{shown}\n```")
    rows = [[n, a[n], b[n], b.get(f"{n}_floor", "")] for n in KEYS if n in b]
    ch.snippet("table", table(["metric", "step 300", "step 1200", "real-data floor"], rows))
    ch.console("npz", sample, npz)
    protocol = json.dumps(b["protocol"], indent=1)  # what makes two numbers comparable
    ch.snippet("protocol", f"```json\n{protocol}\n```")


def translation(ch: Chapter) -> None:
    shown = {}
    budgets = {"pix2pix-edges-fashion": 200, "cyclegan-fashion": 150, "stargan-fashion": 40}
    for config, steps in budgets.items():
        run = ch.run_dir(config)
        args = ["train", f"configs/{config}.yaml", "--out", run, "--set", f"train.steps={steps}"]
        ch.gankit(*args, "--set", f"train.sample_every={steps}")
        shown[config] = ch.figure(f"{run}/samples/step-{steps:08d}.png", config, config)
    ch.snippet("pictures", "\n\n".join(f"`{c}`:\n\n{p}" for c, p in shown.items()))
    inputs = ch.scratch("inputs")
    write_test_items(inputs, 8)
    run = ch.run_dir("cyclegan-fashion")
    out = ch.run_dir("translated")
    translate = ch.gankit("translate", run, "--input", str(RUNS / ch.name / "inputs"), "--out", out)
    ch.console("translate", translate)
    names = sorted(p.name for p in inputs.iterdir())
    pictures = {f"in {n}": f"{RUNS / ch.name}/inputs/{n}" for n in names[:4]}
    pictures |= {f"out {n}": f"{out}/{n}" for n in names[:4]}
    ch.snippet(
        "translate-pictures",
        ch.figure(panels(ch.scratch("translate.png"), pictures, 4), "translate", "in and out"),
    )


def write_test_items(folder: Path, n: int) -> None:
    """The first n Fashion-MNIST test items as PNG files (inputs for `gankit translate`)."""
    from gankit import data
    from gankit.config import DataConfig

    test = data.build(DataConfig(name="fashion-mnist"), "test")
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        Image.fromarray(test.x[i, 0].numpy()).save(folder / f"item-{i}.png")


def style(ch: Chapter) -> None:
    run = ch.run_dir("style-fashion")
    sets = ["train.steps=150", "train.ema=null", "train.sample_every=150", "train.log_every=25"]
    args = ["train", "configs/style-fashion.yaml", "--out", run]
    train = ch.gankit(*args, *overrides(sets))
    full = ch.gankit("sample", run, "--n", "64", "--out", f"{run}/psi-1.npz")
    cut = ch.gankit("sample", run, "--n", "64", "--truncation", "0.5", "--out", f"{run}/psi-05.npz")
    ch.console("style", train, full, cut)
    pictures = {
        "psi 1 (no truncation)": npz_grid(f"{run}/psi-1.npz", ch.scratch("psi-1.png")),
        "psi 0.5": npz_grid(f"{run}/psi-05.npz", ch.scratch("psi-05.png")),
    }
    ch.snippet("truncation", ch.figure(panels(ch.scratch("psi.png"), pictures), "psi", "psi"))
    pro = ch.run_dir("progressive-fashion")
    sets = [
        "train.steps=240",
        "train.ema=null",
        "nets.g_options.width=32",
        "nets.d_options.width=32",
        "recipe_options.fade_steps=40",
        "recipe_options.stable_steps=40",
        "train.sample_every=40",
    ]
    args = ["train", "configs/progressive-fashion.yaml", "--out", pro]
    ch.console("progressive", ch.gankit(*args, *overrides(sets)))
    grids = {f"step {s}": f"{pro}/samples/step-{s:08d}.png" for s in (40, 120, 240)}
    ch.snippet("growing", ch.figure(panels(ch.scratch("grow.png"), grids), "grow", "growing"))


def crops_folder(folder: Path, n: int, side: int = 48, seed: int = 0) -> None:
    """n random crops of scikit-learn's two sample photos (a temple, a flower; bundled, no
    download), flipped at random, as PNG files: a stand-in for a folder of one's own pictures."""
    import numpy as np
    from sklearn.datasets import load_sample_images

    rng = np.random.default_rng(seed)
    photos = load_sample_images().images
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        photo = photos[i % len(photos)]
        top = rng.integers(0, photo.shape[0] - 4 * side)
        left = rng.integers(0, photo.shape[1] - 4 * side)
        crop = Image.fromarray(photo[top : top + 4 * side, left : left + 4 * side])
        crop = crop.resize((side, side), Image.Resampling.LANCZOS)
        if rng.random() < 0.5:
            crop = crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        crop.save(folder / f"crop-{i:04d}.png")


OWN_BUDGET_S = 240  # seconds of training on one core of the development machine


def own_images(ch: Chapter) -> None:
    images = ch.scratch("images")
    crops_folder(images, 500)
    pictures = sorted(images.glob("*.png"))[:64]
    grid = Image.new("RGB", (8 * 49 + 1, 8 * 49 + 1), "white")
    for i, path in enumerate(pictures):
        grid.paste(Image.open(path), (1 + 49 * (i % 8), 1 + 49 * (i // 8)))
    grid.save(ch.scratch("real.png"))
    run = ch.run_dir("crops")
    folder = str(RUNS / ch.name / "images")
    # A CPU budget of minutes: half-width networks, and no EMA (decay 0.999 averages over about
    # a thousand steps, so after a few hundred its samples still show the initial weights).
    sets = [f"train.budget_s={OWN_BUDGET_S}", "train.ema=null"]
    sets += ["nets.g_options.width=32", "nets.d_options.width=32"]
    train = ch.gankit("train", "--data", folder, "--out", run, *overrides(sets))
    ch.console("train", train)
    hub = str(RUNS / ch.name / "crops-gan")
    export = ch.gankit("export", run, "--hub-folder", hub, "--onnx", "--pt2", "--check")
    ch.console("export", export)
    final = records(run, "steps_per_s")[-1]
    last_grid = sorted((ROOT / run / "samples").glob("step-*.png"))[-1]
    ch.numbers(
        "budget", {"budget_s": OWN_BUDGET_S, "step": final["step"], "time_s": final["time_s"]}
    )
    ch.snippet(
        "budget",
        f"{final['step']} generator steps in {final['time_s']:.0f} s "
        f"({final['step'] / final['time_s']:.1f} steps/s on one core)",
    )
    ch.snippet(
        "pictures",
        ch.figure(
            panels(
                ch.scratch("own.png"),
                {
                    "real crops": ch.scratch("real.png"),
                    f"samples after {final['step']} steps": last_grid,
                },
            ),
            "samples",
            "real crops and generated samples",
        ),
    )
    card = (ROOT / hub / "README.md").read_text().split("## Use")[0].split("---\n")[-1]
    card = card.replace("![samples, seed 0](samples.png)", "(picture: samples.png)")  # no link here
    ch.snippet("card", "```markdown\n" + card.strip() + "\n```")


CHAPTERS: dict[str, Callable[[Chapter], None]] = {
    "01-minimax-mlp": minimax_mlp,
    "02-non-saturating": non_saturating,
    "03-dcgan": dcgan,
    "04-mode-collapse-vanishing": mode_collapse_vanishing,
    "05-lsgan-wgan": lsgan_wgan,
    "06-began": began,
    "07-conditional-ssl": conditional_ssl,
    "08-evaluation": evaluation,
    "09-translation": translation,
    "10-style": style,
    "11-own-images": own_images,
}


# -- putting the snippets into the chapters ----------------------------------------------------
def inject(markdown: Path) -> None:
    """Replace each `<!-- out:NAME -->` region of a chapter by snippet NAME."""

    def fill(match: re.Match) -> str:
        snippet = OUT / f"{match[2]}.md"
        if not snippet.is_file():
            sys.exit(f"{markdown.name} quotes {snippet.name}, which this script did not write")
        return match[1] + snippet.read_text() + match[3]

    markdown.write_text(MARKER.sub(fill, markdown.read_text()))


def record_time(name: str, seconds: float) -> None:
    path = OUT / "timings.json"
    timings = json.loads(path.read_text()) if path.is_file() else {}
    timings[name] = round(seconds)
    path.write_text(json.dumps(dict(sorted(timings.items())), indent=2) + "\n")
    rows = [[f"[{n}]({n}.md)", s] for n, s in sorted(timings.items())]
    rows.append(["all", sum(timings.values())])
    (OUT / "timings.md").write_text(table(["chapter", "seconds"], rows) + "\n")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--only", nargs="+", choices=list(CHAPTERS), help="chapters (default: all)")
    names = p.parse_args().only or list(CHAPTERS)
    for name in names:
        start = time.perf_counter()
        print(f"== {name}", flush=True)
        CHAPTERS[name](Chapter(name))
        record_time(name, time.perf_counter() - start)
        inject(GUIDE / f"{name}.md")
    inject(GUIDE / "README.md")


if __name__ == "__main__":
    main()
