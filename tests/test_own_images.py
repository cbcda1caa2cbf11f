"""A user's own images in one command: a folder surveyed and given a config, trained (with every
logger of train.loggers, offline), resumed, exported as a Hugging Face model folder, loaded back
and pushed (up to the HTTP layer)."""

from __future__ import annotations

import base64
import csv
import json
import os
import shutil
import stat
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

import gankit
from gankit import api, autoconfig, config
from gankit.cli import main
from gankit.errors import BadInput

REPO = Path(__file__).resolve().parents[1]


def colour_images(folder: Path, n: int, side: int = 36, seed: int = 0) -> None:
    """n small colour pictures (a disc of one colour on another); a few stored as RGBA and as
    palette images, which the loader converts."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    yy, xx = np.mgrid[:side, :side]
    for i in range(n):
        back, disc = rng.integers(0, 256, (2, 3), dtype=np.uint8)
        cx, cy, r = rng.uniform(8, side - 8, 2).tolist() + [rng.uniform(4, 10)]
        inside = (xx - cx) ** 2 + (yy - cy) ** 2 < r**2
        pixels = np.where(inside[..., None], disc, back).astype(np.uint8)
        img = Image.fromarray(pixels)
        if i % 50 == 1:
            img = img.convert("RGBA")
        elif i % 50 == 2:
            img = img.convert("P")
        img.save(folder / f"{i:04d}.png")


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("own")
    colour_images(root / "plain", 300)
    for k, name in enumerate(["cats", "dogs", "owls"]):
        colour_images(root / "classes" / name, 20, seed=k + 1)
    colour_images(root / "bad", 17)
    (root / "bad" / "empty.png").write_bytes(b"")
    (root / "bad" / "text.jpg").write_text("not an image")
    colour_images(root / "few", 5)
    return root


def test_a_colour_folder_gets_a_small_set_config_with_counts(folders):
    cfg, notes = autoconfig.choose(folders / "plain")
    assert cfg["recipe"] == "unconditional" and cfg["data"]["name"] == "image-folder"
    assert cfg["data"]["size"] == 32 and cfg["data"]["channels"] == 3  # 36 px images: 32 fits
    assert cfg["stabilisers"]["diffaugment"] == ["color", "translation", "cutout"]
    assert notes[0].startswith(f"300 usable images in {folders / 'plain'}")
    # 6 of each converted mode: indices 1, 51, ..., 251 and 2, 52, ..., 252
    assert "6 with alpha (laid on white), 6 palette (expanded)" in notes[0]
    assert autoconfig.choose(folders / "plain", 64)[0]["data"]["size"] == 64


def test_class_sub_folders_choose_the_projection_recipe(folders):
    cfg, notes = autoconfig.choose(folders / "classes")
    assert cfg["recipe"] == "projection" and cfg["loss"]["name"] == "hinge"
    assert cfg["nets"]["d_options"]["spectral_norm"] is True
    assert any("3 class sub-folders (cats, dogs, owls)" in n for n in notes)


def test_bad_files_are_counted_and_too_few_images_is_one_line(folders, capsys):
    _, notes = autoconfig.choose(folders / "bad")
    assert "2 unreadable skipped (empty.png, text.jpg)" in notes[0]
    assert main(["train", "--data", str(folders / "few"), "--out", "unused"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "5 usable image(s)" in err and "at least 16" in err
    with pytest.raises(SystemExit):  # neither a config nor --data: argparse's exit 2
        main(["train"])


def test_images_over_the_pixel_limit_are_counted_as_the_loader_skips_them(folders):
    from gankit.data.survey import survey

    found = survey(folders / "bad", max_pixels=35 * 36)  # the 36x36 pictures are over it
    assert (found.count, len(found.too_large), len(found.unreadable)) == (0, 17, 2)


@pytest.mark.parametrize("size", [64, 128])
def test_shipped_folder_configs_are_what_train_data_writes(size, folders):
    shipped = yaml.safe_load((REPO / "configs" / f"folder-{size}.yaml").read_text())
    chosen, _ = autoconfig.choose(folders / "plain", size)
    for cfg in (shipped, chosen):
        cfg["data"].pop("root")
        cfg.pop("description")
    assert shipped == chosen


TINY = [
    "train.steps=4",
    "train.batch_size=16",
    "train.log_every=2",
    "train.sample_every=2",
    "train.checkpoint_every=2",
    "train.progress=false",
    "nets.g_options.width=8",
    "nets.d_options.width=8",
    "nets.z_dim=16",
    "train.loggers=[tensorboard, csv, wandb, mlflow]",
]


@pytest.fixture(scope="module")
def trained(folders, tmp_path_factory):
    """Trained to step 4, then resumed to 6 (samples and logs every 2 steps)."""
    pytest.importorskip("wandb")
    pytest.importorskip("mlflow")
    env = pytest.MonkeyPatch()
    env.setenv("WANDB_MODE", "offline")  # W&B writes its run files locally, for `wandb sync`
    env.setenv("WANDB_SILENT", "true")
    env.delenv("MLFLOW_TRACKING_URI", raising=False)  # MLflow: a file store in the run
    run = tmp_path_factory.mktemp("runs") / "plain"
    args = ["train", "--data", str(folders / "plain"), "--out", str(run), "--size", "32"]
    assert main(args + [f"--set={s}" for s in TINY]) == 0
    saved = yaml.safe_load((run / "config.yaml").read_text())
    assert saved["data"]["name"] == "image-folder" and saved["train"]["steps"] == 4
    assert saved["description"].startswith("DCGAN on the 300 images")
    first = json.loads((run / "loggers.json").read_text())
    assert main(["resume", str(run), "--set", "train.steps=6"]) == 0
    assert json.loads((run / "loggers.json").read_text()) == first  # the same W&B, MLflow runs
    yield run
    env.undo()


def test_train_data_resumes_from_its_written_config(trained):
    assert api.load(trained).step == 6


def test_offline_wandb_run_files(trained):
    run, first = trained, json.loads((trained / "loggers.json").read_text())
    # one offline folder per process (train, then resume), both of the same run id: `wandb sync`
    # uploads them as one run
    folders = sorted((run / "wandb").glob(f"offline-run-*-{first['wandb']}"))
    assert len(folders) == 2
    names = sorted(
        p.relative_to(run / "wandb").as_posix()
        for s in folders
        for p in s.rglob("*")
        if p.is_file()
    )
    print("\n".join(names))  # the files W&B keeps for `wandb sync`
    assert [n.split("/")[-1] for n in names if n.endswith(".wandb")] == [
        f"run-{first['wandb']}.wandb"
    ] * 2
    grids = [n for n in names if "/files/media/images/samples_" in n]
    assert len(grids) == 3  # steps 2, 4 (training) and 6 (resumed)


def test_mlflow_file_store_run(trained):
    run, first = trained, json.loads((trained / "loggers.json").read_text())
    (folder,) = (run / "mlruns").glob(f"*/{first['mlflow']}")
    names = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    print("\n".join(names))
    assert "artifacts/config.yaml" in names
    assert [n for n in names if n.startswith("artifacts/samples/")] == [
        f"artifacts/samples/step-{s:08d}.png" for s in (2, 4, 6)
    ]
    # MLflow's file store: one "timestamp value step" line per logged point
    steps = [
        int(line.split()[2])
        for line in (folder / "metrics" / "d_loss").read_text().split("\n")
        if line
    ]
    assert steps == [2, 4, 6]


def test_csv_and_tensorboard(trained):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run = trained
    with (run / "metrics.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["step"]) for r in rows if r["name"] == "d_loss"] == [2, 4, 6]
    events = EventAccumulator(str(run)).Reload()
    assert [e.step for e in events.Scalars("d_loss")] == [2, 4, 6]
    assert [e.step for e in events.Images("samples")] == [2, 4, 6]


def test_unknown_logger_is_named_before_training():
    with pytest.raises(BadInput, match='unknown logger "tensorbord".*Did you mean "tensorboard"'):
        config.from_dict({"train": {"loggers": ["tensorbord"]}})


@pytest.fixture(scope="module")
def hub_folder(trained, tmp_path_factory):
    out = tmp_path_factory.mktemp("hub") / "plain-gan"
    assert main(["export", str(trained), "--hub-folder", str(out), "--onnx", "--pt2"]) == 0
    return out


def test_hub_folder_loads_with_from_pretrained_and_the_mixin(trained, hub_folder):
    from huggingface_hub import PyTorchModelHubMixin

    names = sorted(p.name for p in hub_folder.iterdir())
    assert names == [
        "README.md",
        "config.json",
        "gankit-config.yaml",
        "generator.onnx",
        "generator.pt2",
        "model.safetensors",
        "samples.png",
    ]
    g = gankit.Generator.from_pretrained(hub_folder)
    run_g = api.load(trained).recipe.modules["g_ema"].eval()
    z = torch.randn(3, 16)
    with torch.no_grad():
        assert torch.equal(g(z), run_g(z))

    class MixinGenerator(gankit.Generator, PyTorchModelHubMixin):
        """A class of the library's own convention: config.json keys are its init args."""

    mixin = PyTorchModelHubMixin.from_pretrained.__func__(MixinGenerator, hub_folder, strict=True)
    with torch.no_grad():
        assert torch.equal(mixin.eval()(z), run_g(z))
    card = (hub_folder / "README.md").read_text()
    assert card.startswith("---\nlibrary_name: gankit\n")
    for fact in ("`unconditional`", "image-folder", "6 generator steps", "Not evaluated"):
        assert fact in card
    assert "gankit train gankit-config.yaml --out runs/plain-gan" in card
    assert Image.open(hub_folder / "samples.png").size == (4 * 33 + 1, 4 * 33 + 1)


def test_card_shows_the_newest_evaluation_with_floors_and_protocol(trained, tmp_path):
    from gankit.export import export_generator

    run = tmp_path / "run"
    shutil.copytree(trained, run, ignore=shutil.ignore_patterns("wandb", "mlruns"))
    protocol = {"dataset": "image-folder", "extractor": "inception", "n_generated": 500}
    old = {"step": 4, "fid": 99.0, "fid_floor": 9.0, "protocol": protocol}
    new = {
        "step": 6,
        "fid": 41.5,
        "fid_floor": 3.25,
        "kid": 0.02,
        "kid_floor": 0,
        "protocol": protocol,
    }
    with (run / "metrics.jsonl").open("a") as f:  # as `gankit eval RUN` appends them
        f.write(json.dumps(old) + "\n" + json.dumps(new) + "\n")
    export_generator(run, tmp_path / "card", card="me/evaluated")
    card = (tmp_path / "card" / "README.md").read_text()
    assert "At step 6." in card and "| fid | 41.5 | 3.25 |" in card and "| kid | 0.02 | 0 |" in card
    assert "| fid | 99" not in card and '"extractor": "inception"' in card


def test_weights_follow_the_umask(hub_folder):
    mask = os.umask(0)
    os.umask(mask)
    mode = stat.S_IMODE((hub_folder / "model.safetensors").stat().st_mode)
    assert mode == 0o666 & ~mask


def test_onnx_file_loads_alone_and_pt2_matches(hub_folder, tmp_path, capsys):
    ort = pytest.importorskip("onnxruntime")
    alone = tmp_path / "generator.onnx"
    shutil.copy(hub_folder / "generator.onnx", alone)  # no .data file beside it
    assert not list(hub_folder.glob("*.data"))
    g = gankit.Generator.from_pretrained(hub_folder)
    z = torch.randn(5, 16)
    with torch.no_grad():
        expected = g(z).numpy()
    got = ort.InferenceSession(str(alone)).run(None, {"z": z.numpy()})[0]
    assert np.abs(got - expected).max() < 1e-4
    program = torch.export.load(str(hub_folder / "generator.pt2")).module()
    with torch.no_grad():
        assert np.abs(program(z).numpy() - expected).max() < 1e-5
    from gankit.export import check

    diffs = check(hub_folder)
    assert set(diffs) == {"onnx", "pt2"} and max(diffs.values()) < 1e-4


def test_push_uploads_the_hub_folder_up_to_the_http_layer(trained, hub_folder, monkeypatch):
    """The upload goes through huggingface_hub's own HTTP client, answered here by an httpx
    MockTransport (the requests a real Hub would get; the Hub itself cannot be reached)."""
    import httpx2
    import huggingface_hub

    requests, cards, committed = [], [], {}

    def hub(request):
        requests.append((request.method, request.url.path))
        if request.url.path.endswith("/repos/create"):
            return httpx2.Response(200, json={"url": "https://huggingface.co/me/plain-gan"})
        if request.url.path.endswith("/validate-yaml"):  # the card's metadata, checked
            cards.append(json.loads(request.content))
            return httpx2.Response(200, json={"errors": [], "warnings": []})
        if "/preupload/" in request.url.path:
            paths = [f["path"] for f in json.loads(request.content)["files"]]
            return httpx2.Response(
                200,
                json={
                    "files": [
                        {"path": p, "uploadMode": "regular", "shouldIgnore": False} for p in paths
                    ]
                },
            )
        for line in request.content.decode().splitlines():  # the commit, as ndjson
            op = json.loads(line)
            if op["key"] == "file":
                committed[op["value"]["path"]] = base64.b64decode(op["value"]["content"])
        return httpx2.Response(
            200,
            json={"commitUrl": "https://huggingface.co/me/plain-gan/commit/1", "commitOid": "1"},
        )

    monkeypatch.setenv("HF_TOKEN", "hf_test")
    huggingface_hub.set_client_factory(lambda: httpx2.Client(transport=httpx2.MockTransport(hub)))
    try:
        assert main(["push", str(trained), "--repo", "me/plain-gan"]) == 0
    finally:
        huggingface_hub.set_client_factory(httpx2.Client)
    # huggingface_hub may also GET metadata of its own (/api/agent-harnesses) on a process's
    # first call; the upload is the POSTs
    assert [r for r in requests if r[0] == "POST"] == [
        ("POST", "/api/repos/create"),
        ("POST", "/api/validate-yaml"),
        ("POST", "/api/models/me/plain-gan/preupload/main"),
        ("POST", "/api/models/me/plain-gan/commit/main"),
    ]
    assert sorted(committed) == [
        "README.md",
        "config.json",
        "gankit-config.yaml",
        "model.safetensors",
        "samples.png",
    ]
    assert committed["model.safetensors"] == (hub_folder / "model.safetensors").read_bytes()
    assert b'from_pretrained("me/plain-gan")' in committed["README.md"]
    assert cards and "library_name: gankit" in json.dumps(cards[0])


def test_push_without_a_token_is_one_line(trained, monkeypatch, capsys):
    monkeypatch.setenv("HF_TOKEN", "")
    monkeypatch.setenv("HF_HOME", str(trained / "no-hf-home"))
    assert main(["push", str(trained), "--repo", "me/x"]) == 2
    assert "no Hugging Face token" in capsys.readouterr().err
