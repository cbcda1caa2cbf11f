"""The commands on run directories: train, resume, sample, classify, export, push, list."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from gankit import strict_json
from gankit.cli.base import SEED, add_overrides, command, ema_switch


@command(
    "train",
    "train a GAN from a YAML config, or from a folder of images alone, into a run directory",
    "gankit train configs/quickstart.yaml --out runs/quick --set train.steps=500\n"
    "  gankit train --data ~/pictures/faces --out runs/faces",
)
def _train(p: argparse.ArgumentParser):
    p.add_argument("config", nargs="?", help="YAML config (see configs/); or give --data")
    p.add_argument(
        "--data",
        metavar="FOLDER",
        help="a folder of images (sub-folders as classes): gankit picks the size, recipe, network "
        "and augmentation, prints them, and writes the config into the run directory",
    )
    p.add_argument(
        "--size", type=int, choices=(32, 64, 128), help="with --data: the image side to train at"
    )
    p.add_argument(
        "--out", help="run directory (default: runs/<config name>); with --data, runs/<folder name>"
    )
    add_overrides(p)

    def run(a: argparse.Namespace) -> int:
        if (a.config is None) == (a.data is None):
            p.error("give a CONFIG file or --data FOLDER (one of them)")
        if a.data is None and a.size is not None:
            p.error("--size goes with --data; for a config use --set data.size=N")
        from gankit import api

        if a.data is None:
            return _finished(api.train(a.config, a.out, a.set))
        from gankit import autoconfig, config

        raw, notes = autoconfig.choose(a.data, a.size)
        cfg = config.from_dict(config.apply_overrides(raw, a.set))
        out = Path(a.out or Path("runs") / (Path(a.data).resolve().name or "folder"))
        print(f"gankit train --data {a.data}: chose")
        for note in notes:
            print(f"  {note}")
        if a.set:
            print(f"  then --set {' '.join(a.set)}")
        print(f"  config: {out / 'config.yaml'} (edit it, then `gankit resume {out}`)")
        return _finished(api.train(cfg, out))

    return run


@command(
    "resume",
    "continue a run from its newest good checkpoint",
    "gankit resume runs/quick --set train.steps=4000",
)
def _resume(p: argparse.ArgumentParser):
    p.add_argument("run", help="run directory")
    add_overrides(p)
    p.add_argument(  # the settings a checkpoint can take: gankit.train.resume_policy
        "--reset-optimizer",
        action="store_true",
        help="start the optimisers afresh, dropping their saved state: needed to change "
        "optim.name or optim.betas",
    )

    def run(a: argparse.Namespace) -> int:
        from gankit import api

        return _finished(api.resume(a.run, a.set, a.reset_optimizer))

    return run


@command(
    "sample",
    "export samples of a trained run as .npz (uint8 NCHW images or points)",
    "gankit sample runs/quick --n 1000 --out samples.npz --seed 1",
)
def _sample(p: argparse.ArgumentParser):
    p.add_argument("run", help="run directory")
    p.add_argument("--n", type=int, default=64, help="number of samples")
    p.add_argument("--out", required=True, help="output .npz file")
    p.add_argument("--seed", type=SEED, default=0, help="seed of the latents")
    p.add_argument(
        "--class",
        dest="class_index",
        default=None,
        metavar="K_OR_NAME",
        help="conditional runs: a class index or name (e.g. 9 or 'Ankle boot') (default: a "
        "balanced spread of all classes)",
    )
    ema_switch(p, "use")
    p.add_argument(
        "--truncation",
        type=float,
        default=1.0,
        metavar="PSI",
        help="style-based generators: pull styles towards their mean by psi (e.g. 0.7); 1 is off",
    )

    def run(a: argparse.Namespace) -> int:
        from gankit import api

        arrays = api.sample(a.run, a.n, a.seed, a.class_index, a.ema, truncation=a.truncation)
        path = api.save_npz(arrays, a.out)
        shapes = ", ".join(f"{k} {v.dtype} {tuple(v.shape)}" for k, v in arrays.items())
        print(f"wrote {path}: {shapes}")
        return 0

    return run


@command(
    "classify",
    "score images with a run's discriminator as a classifier (semi-supervised or acgan runs)",
    "gankit classify runs/sgan-fashion --input fashion-mnist",
)
def _classify(p: argparse.ArgumentParser):
    p.add_argument("run", help="run directory")
    p.add_argument(
        "--input",
        required=True,
        help=".npz with `images` (and `labels`), a folder of images (sub-folders named like the "
        "classes give labels), or a dataset name (its test split)",
    )
    p.add_argument("--out", help="write per-image predictions and probabilities to this .npz")

    def run(a: argparse.Namespace) -> int:
        from gankit import api
        from gankit.classify import classify

        summary, predicted, probs = classify(a.run, a.input)
        if a.out:
            api.save_npz({"predictions": predicted, "probabilities": probs}, a.out)
            summary["out"] = a.out
        print(json.dumps(summary))
        return 0

    return run


@command(
    "export",
    "write a run's generator as config.json + model.safetensors (and ONNX / torch.export), "
    "or as a Hugging Face model folder with its card",
    "gankit export runs/quick --out models/quick --onnx --pt2 --check\n"
    "  gankit export runs/quick --hub-folder models/quick-hub",
)
def _export(p: argparse.ArgumentParser):
    p.add_argument("run", help="run directory")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--out", help="folder to write")
    where.add_argument(
        "--hub-folder",
        metavar="DIR",
        help="folder to write with a model card (README.md, samples.png, the run's config) as "
        "the Hugging Face Hub shows it",
    )
    p.add_argument("--onnx", action="store_true", help="also write generator.onnx (one file)")
    p.add_argument("--pt2", action="store_true", help="also write generator.pt2 (torch.export)")
    p.add_argument(
        "--check",
        action="store_true",
        help="run the ONNX / .pt2 files against PyTorch and print the largest difference",
    )
    ema_switch(p, "export")

    def run(a: argparse.Namespace) -> int:
        from gankit import export

        out = Path(a.out or a.hub_folder)
        card = out.resolve().name if a.hub_folder else None
        files = export.export_generator(a.run, out, a.onnx, a.pt2, a.ema, card)
        for kind, path in files.items():
            print(f"{kind}: {path}")
        if a.check:
            for kind, diff in export.check(out).items():
                print(f"check {kind}: max |difference| against PyTorch {diff:.3g}")
        return 0

    return run


@command(
    "push",
    "upload a run's generator with its model card to the Hugging Face Hub (needs a token)",
    "gankit push runs/faces --repo you/faces-gan   (with HF_TOKEN set, or after `hf auth login`)",
)
def _push(p: argparse.ArgumentParser):
    p.add_argument("run", help="run directory")
    p.add_argument("--repo", required=True, help="Hub model repository, user/name")
    p.add_argument("--private", action="store_true", help="create the repository as private")
    ema_switch(p, "upload")

    def run(a: argparse.Namespace) -> int:
        from gankit.hub import push

        commit = push(a.run, a.repo, a.private, a.ema)
        print(f"pushed {a.run} to https://huggingface.co/{a.repo}: {commit}")
        return 0

    return run


@command("list", "name every dataset, network, loss, penalty and recipe", "gankit list")
def _list(p: argparse.ArgumentParser):
    def run(a: argparse.Namespace) -> int:
        from gankit import api

        for kind, parts in api.list_parts().items():
            print(f"{kind}:")
            width = max(map(len, parts), default=0)
            for name, doc in parts.items():
                print(f"  {name:<{width}}  {doc}")
        return 0

    return run


def _finished(result: dict) -> int:
    if "report" not in result:  # a torchrun rank other than 0: rank 0 reports for the job
        return 0
    print(f"trained to step {result['step']}: run {result['run']}")
    print(f"  samples: {result['samples']}")
    print(f"  report:  {result['report']}")
    if result.get("metrics"):
        print(f"  metrics: {strict_json.dumps(result['metrics'])}")
    return 0
