"""Builds docs/BENCHMARKS.md from the benchmark records in docs/benchmarks/.

The page's prose lives in bench/BENCHMARKS.template.md: what each benchmark measures and how to
read it. Every number comes from a record (one JSON line per run, with its command, machine, torch
version and date); a line `{{ name }}` in the template is replaced by the table that `TABLES[name]`
builds from the records, headed by the commands and machines that produced them. Records with
`"status": "historical"` (settings that no longer ship) stay in their files and are left out of
the tables; those with a `lesson` are listed, one line each, under "Things that did not help".

    python bench/render.py            # writes docs/BENCHMARKS.md
    python bench/render.py --check    # exits 1 when the committed page is not what the records give
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import records  # noqa: E402  (bench/ is a folder of scripts, not a package)

ROOT = records.ROOT
TEMPLATE = ROOT / "bench" / "BENCHMARKS.template.md"
PAGE = ROOT / "docs" / "BENCHMARKS.md"
Record = dict[str, Any]
Row = list[str]


# -- formatting ----------------------------------------------------------------------------------
def num(x: Any, digits: int = 3) -> str:
    """A number as a table shows it: `digits` significant figures, '-' for none."""
    if x is None:
        return "-"
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return str(x)
    if isinstance(x, int) or abs(x) >= 10**digits or float(x).is_integer() and abs(x) >= 1:
        return f"{round(x):,}"
    return f"{x:.{digits}g}"


def pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def spread(values: list[float], show: Callable[[float], str] = num, each: bool = True) -> str:
    """mean ± population std over seeds, then the seeds' own values in brackets."""
    if len(values) == 1:
        return show(values[0])
    std = statistics.pstdev(values)
    text = f"{show(statistics.mean(values))} ± {num(std, 2) if show is num else show(std)}"
    return text + (f" ({', '.join(show(v) for v in values)})" if each else "")


def table(header: Row, rows: Iterable[Row]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(lines)


def provenance(recs: list[Record], subs: tuple[tuple[str, str], ...] = ()) -> str:
    """The commands (seeds and the like folded by `subs`) behind a table's records, then where
    and when they ran, as one indented block."""
    commands, machines, dates = [], [], []
    for r in recs:
        cmd = r["command"]
        for pattern, repl in subs:
            cmd = re.sub(pattern, repl, cmd)
        for seen, value in ((commands, cmd), (machines, r["machine"]), (dates, r["date"])):
            if value not in seen:
                seen.append(value)
    span = dates[0] if len(set(dates)) == 1 else f"{min(dates)} to {max(dates)}"
    where = f"# on {'; '.join(machines)}; torch {recs[0]['torch']}; {span}"
    return "\n".join(f"    {line}" for line in [*commands, where]) + "\n"


def current(name: str) -> list[Record]:
    return [r for r in records.read(name) if r.get("status", "current") == "current"]


def section(recs: list[Record], header: Row, rows: Iterable[Row], subs=()) -> str:
    if not recs:
        return "No record yet: run the command of this section."
    return provenance(recs, subs) + "\n" + table(header, rows)


SEEDS = ((r"--(seeds?) \d+", r"--\1 S"), (r"train\.seed=\d+", "train.seed=S"))


# -- one function per table ---------------------------------------------------------------------
def configs_table() -> str:
    latest: dict[str, Record] = {}
    for r in current("configs"):
        latest[r["config"]] = r
    recs = [latest[k] for k in sorted(latest)]

    def quality(r: Record) -> str:
        h = r.get("headline") or {"metric": None}
        if h["metric"] is None:
            return "(its own benchmark below)"
        total = f" of {num(h['total'])}" if h.get("total") else ""
        return f"{h['metric']} {num(h['value'])}{total} (floor {num(h['floor'])})"

    rows = [
        [
            f"`{r['config']}`",
            r["description"],
            num(r.get("steps_per_s")),
            num(r.get("budget_steps")),
            quality(r),
            f"![]({r['png']})" if "png" in r else "-",
        ]
        for r in recs
    ]
    header = ["config", "shows", "steps/s", "steps in budget", "after the budget", "samples"]
    shown = [row for row, r in zip(rows, recs) if "skipped" not in r]
    templates = ", ".join(f"`{r['config']}`" for r in recs if "skipped" in r)
    text = section(recs, header, shown, ((r" --only .*", ""),))
    return text + (
        f"\n\nTemplates for your own images (they need `data.root`): {templates}."
        if templates
        else ""
    )


def speed_table() -> str:
    recs = current("speed")
    rows = [
        [
            r["device"],
            r["case"],
            num(r["batch"]),
            num(r["gankit_steps_per_s"]),
            num(r["reference_steps_per_s"]),
            f"{r['ratio']:.2f}",
        ]
        for r in recs
    ]
    header = ["device", "network", "batch", "gankit steps/s", "reference steps/s", "ratio"]
    return section(recs, header, rows)


ARCH_CONFIGS = {
    "dcgan": "dcgan-fashion",
    "dcgan-hinge-sn": "hinge-fashion",
    "dcgan-resize": "dcgan-resize-fashion",
    "dcgan-ema": "dcgan-fashion + train.ema=0.999",
    "resnet-sn-hinge": "resnet-sn-hinge-fashion",
    "progressive": "progressive-fashion",
    "style": "style-fashion",
    "began": "began-fashion",
    "dcgan-diffaugment-ema": "dcgan-diffaugment-ema-fashion",
    "dcgan-improved-techniques": "improved-techniques-fashion",
    "reference-dcgan": "reference loop (bench/reference_dcgan.py)",
}


def gpu_table() -> str:
    """The newest GPU run of bench/gpu.py in that script's own table; without one, what its CPU
    smoke run shows (that each measurement runs; its figures are no speeds)."""
    from gpu import markdown  # imports torch: only here, when the page is rendered

    if runs := current("gpu"):
        r = runs[-1]
        return provenance([r]) + "\n" + markdown(r, r["rows"]).strip()
    smoke = current("gpu-cpu-smoke")
    if not smoke:
        return "No record yet: run the command of this section."
    rows = smoke[-1]["rows"]
    ran = sum(row["status"].startswith("ok") for row in rows)
    said = sorted(
        {row["status"].split(":")[0] for row in rows if not row["status"].startswith("ok")}
    )
    return (
        provenance(smoke[-1:])
        + f"\nNo GPU run is recorded yet. The smoke run on the CPU ran {ran} of {len(rows)} rows;"
        + f" the others said why not ({'; '.join(said)}). Its figures are not speeds."
    )


def threads_table() -> str:
    recs = current("threads-ring")
    rows = [
        [num(r["threads"]), num(r["rep"]), num(r["load_average"]),
         ", ".join(num(v) for k, v in r.items() if k.startswith("steps_per_s") for v in v)]
        for r in recs
    ]  # fmt: skip
    return section(
        recs,
        ["threads", "run", "load average", "steps/s at each log step"],
        rows,
        ((r"train\.threads=\d", "train.threads=T"), (r"threads-\d+-\d+", "threads-T-R")),
    )


def cli_startup_table() -> str:
    recs = current("cli-startup")
    commands = list(recs[0]["median_wall_s"]) if recs else []
    rows = [
        [
            r["tree"],
            *(num(r["median_wall_s"][c]) for c in commands),
            num(r["import_torch_median_wall_s"]),
            num(r["load_average_1min"]),
        ]
        for r in recs
    ]
    header = ["tree", *(f"`gankit {c}` s" for c in commands), "`import torch` s", "load"]
    return section(recs, header, rows)


def fid_inception_table() -> str:
    recs = current("fid-inception")
    rows = []
    for r in recs:
        per_k = r["cpu_seconds_per_1000_images"]
        rows.append([
            r["dataset"], f"{num(r['n_train'])} / {num(r['n_test'])}", r["resize"],
            num(r["fid_floor"]), num(r["kid_floor"]),
            f"{num(r['precision_floor'])} / {num(r['recall_floor'])}", num(per_k),
            f"{num(per_k * 10 / 60)} min / {num(per_k * 50 / 3600)} h",
        ])  # fmt: skip
    header = ["data", "n train / test", "resize", "FID floor", "KID floor",
              "precision / recall floor", "CPU s per 1,000 images", "10k / 50k images"]  # fmt: skip
    return section(recs, header, rows)


def lapgan_table() -> str:
    recs = current("lapgan")
    rows = [[model, num(r["steps"]), num(r[model]["wall_s"]), num(r[model]["fid"])]
            for r in recs for model in ("dcgan", "lapgan")]  # fmt: skip
    return section(recs, ["model", "G steps", "wall s", "FID"], rows)


def srgan_table() -> str:
    recs = current("srgan")

    def scores(m: dict[str, Any]) -> str:
        psnr = f"{num(m['psnr'])}, {num(m.get('psnr_pooled'))}"
        return f"{psnr} / {num(m['ssim'])} / {num(m['fid']) if 'fid' in m else '-'}"

    models = ("bicubic", "srresnet", "srgan")
    rows = [[r["benchmark"], num(r["steps"]), *(scores(r[m]) for m in models)] for r in recs]
    header = ["task", "G steps", "bicubic: PSNR dB (per image, pooled) / SSIM / FID", "SRResNet",
              "SRGAN"]  # fmt: skip
    return section(recs, header, rows)


def colourise_table() -> str:
    recs = current("colourise")
    rows = []
    for r in recs:
        for model, label in (
            ("l1_only", "L1-only U-Net"),
            ("gan", "GAN"),
            ("gan_hints", "GAN + hints"),
        ):
            rows.append(
                [label, num(r["steps"]), num(r[model]["lab_l1"]), num(r[model]["colourfulness"])]
            )
        rows.append(["real crops", "-", "-", num(r["real_colourfulness"])])
    return section(recs, ["model", "G steps", "L1 in Lab", "colourfulness"], rows)


def time_to_quality_table() -> str:
    recs = current("architectures-600s")
    if not recs:
        return section(recs, [], [])
    groups: dict[str, list[Record]] = {}
    for r in recs:
        groups.setdefault(r["name"], []).append(r)
    rows = []
    for name, runs in sorted(
        groups.items(), key=lambda kv: statistics.mean((r.get("live_g") or r)["fid"] for r in kv[1])
    ):
        views = (
            [("live G", [r["live_g"] for r in runs]), ("EMA G", runs)]
            if runs[0].get("live_g")
            else [("", runs)]
        )
        for label, ms in views:
            rows.append(
                [
                    f"{ARCH_CONFIGS.get(name, name)}{', ' + label if label else ''}",
                    spread([r["step"] for r in runs], each=False),
                    spread([m["fid"] for m in ms]),
                    spread([m["precision"] for m in ms], each=False),
                    spread([m["recall"] for m in ms], each=False),
                    spread([m["class_kl"] for m in ms], each=False),
                ]
            )
    floor = statistics.mean(r["fid_floor"] for r in recs if "fid_floor" in r)
    rows.append(["floor (held-out real data)", "-", num(floor), "-", "-", "-"])
    header = ["run", "G steps in 600 s", "FID (seeds 0, 1, 2)", "precision", "recall", "class KL"]
    subs = (*SEEDS, (r"--only \S+", "--only NAME"))
    return section(recs, header, rows, subs)


RACES = (
    ("time-to-quality-sweep", "sweep"),
    ("time-to-quality", "full data"),
    ("time-to-quality-limited", "first 2,000 images"),
    ("time-to-quality-ada", "ADA, full data"),
)
RACE_TIMES = (150, 300, 600)


def races_table() -> str:
    """bench/time_to_quality.py's races: each arm's FID at 150, 300 and 600 training seconds
    (mean ± std over seeds, then each seed) and, for an arm with an EMA G, its live G's."""
    recs = [r | {"race": label} for name, label in RACES for r in current(name)]
    arms: dict[tuple[str, str], list[Record]] = {}
    for r in recs:
        arms.setdefault((r["race"], r["arm"]), []).append(r)

    def at(runs: list[Record], t: float, key: str, each: bool = True) -> str:
        # each seed's score nearest to t (a gankit arm scores at the first step past t)
        values = []
        for seed in sorted({r["seed"] for r in runs}):
            mine = [r for r in runs if r["seed"] == seed and key in r]
            near = min(mine, key=lambda r: abs(r["time_s"] - t), default=None)
            if near is not None and abs(near["time_s"] - t) < 0.1 * t:
                values.append(near[key])
        return spread(values, each=each) if values else "-"

    rows = []
    for (race, arm), runs in arms.items():
        end = max(r["time_s"] for r in runs)
        last = [max((r for r in runs if r["seed"] == seed), key=lambda r: r["time_s"])
                for seed in sorted({r["seed"] for r in runs})]  # fmt: skip
        live = "-"
        if "live_fid" in runs[0]:
            live = ", ".join(at(runs, t, "live_fid", each=False) for t in RACE_TIMES)
        if "ada_p" in last[0]:  # where ADA's p had got to
            arm += f" (p {spread([r['ada_p'] for r in last], each=False)} at the end)"
        rows.append([race, arm, *(at(runs, t, "fid") for t in RACE_TIMES), live,
                     at(runs, end, "class_kl"),
                     spread([r["step"] for r in last], each=False)])  # fmt: skip
    header = ["race", "arm", "FID at 150 s", "300 s", "600 s", "live G at 150, 300, 600 s",
              "class KL at the end", "G steps at the end"]  # fmt: skip
    subs = ((r"--seeds( \d+)+", "--seeds S"), *SEEDS)
    return section(recs, header, rows, subs)


def eval_cost_table() -> str:
    cost, evs = current("eval-cost"), current("evaluators")
    a = section(
        cost,
        ["what", "n", "wall s", "user CPU s"],
        [[r["what"], num(r["n"]), num(r["wall_s"]), num(r["user_s"])] for r in cost],
    )
    b = section(
        evs,
        ["dataset", "size, channels", "epochs", "test accuracy", "wall s"],
        [
            [
                r["dataset"],
                f"{r['size']} px, {r['channels']}",
                num(r["epochs"]),
                pct(r["test_accuracy"]),
                num(r["wall_s"]),
            ]
            for r in evs
        ],
    )
    return a + "\n\n" + b


def toys_table() -> str:
    names = ("ring-10-seeds", "ring-10-seeds-pacgan", "grid-10-seeds-r1", "ring-seeds-100-119",
             "ring-pacgan-seeds-100-119", "grid-r1-seeds-100-119")  # fmt: skip
    groups: dict[tuple[str, str], list[Record]] = {}  # a config on one set of seeds
    for records_name in names:
        for r in current(records_name):
            groups.setdefault((r["config"], records_name), []).append(r)
    recs = [r for runs in groups.values() for r in runs]
    rows = []
    for (name, _), runs in groups.items():
        modes, hq, kl = ([r[k] for r in runs] for k in ("modes", "high_quality", "reverse_kl"))
        seeds = [r["seed"] for r in runs]
        first = runs[0]
        rows.append([
            f"`{name}`",
            f"{len(runs)} ({min(seeds)}-{max(seeds)})",
            num(first["step"]),
            f"{spread(modes, each=False)} (min {num(min(modes))}) of {num(first['modes_total'])}",
            f"{spread(hq, pct, each=False)} (min {pct(min(hq))})",
            f"{spread(kl, each=False)} (max {num(max(kl))})",
            " / ".join((num(first["modes_floor"]), pct(first["high_quality_floor"]),
                        num(first["reverse_kl_floor"]))),
        ])  # fmt: skip
    header = ["config", "seeds", "steps", "modes", "high quality", "reverse KL", "floor"]
    return section(recs, header, rows, SEEDS)


def toys_games_table() -> str:
    recs = current("toys-games-30s")
    groups: dict[tuple[str, str], list[Record]] = {}
    for r in recs:
        groups.setdefault((r["config"], " ".join(r.get("set", [])) or "(the config)"), []).append(r)
    rows = [
        [
            cfg,
            change,
            num(statistics.mean(r["step"] for r in runs)),
            spread([r["modes"] for r in runs], each=False),
            spread([r["high_quality"] for r in runs], pct, each=False),
            spread([r["reverse_kl"] for r in runs], each=False),
        ]
        for (cfg, change), runs in groups.items()
    ]
    header = ["toy", "change (`--set`)", "G steps in 30 s", "modes", "high quality", "reverse KL"]
    return section(recs, header, rows, ((r"--set .*", "[--set CHANGE]"),))


def stacked_table() -> str:
    recs = current("stacked")
    rows = [
        [
            r["protocol"]["dataset"],
            num(r.get("steps", r.get("step"))),
            num(r.get("wall_s")),
            f"{num(r['modes'])} of {num(r['modes_total'])}",
            num(r["kl"]),
            f"{num(r['modes_floor'])} / {num(r['kl_floor'])}",
        ]
        for r in recs
    ]
    header = ["data", "steps", "wall s", "modes", "KL from uniform", "floor: modes / KL"]
    return section(recs, header, rows)


def sgan_table() -> str:
    recs = current("sgan")
    rows = []
    for labelled in sorted({r["labelled"] for r in recs}):
        cell = {}
        for w in (1.0, 0.0):
            runs = sorted(
                (r for r in recs if r["labelled"] == labelled and r["unsupervised_weight"] == w),
                key=lambda r: r["seed"],
            )
            cell[w] = spread([r["result"]["error"] for r in runs], pct)
            seeds = ", ".join(str(r["seed"]) for r in runs)
        rows.append([num(labelled), seeds, cell[1.0], cell[0.0]])
    header = ["labels", "seeds", "SGAN test error", "the same D on the labels alone"]
    subs = (
        *SEEDS,
        (r"labelled=\d+", "labelled=L"),
        (r"weight=[\d.]+", "weight=W"),
        (r"sgan-L\S+", "sgan-RUN"),
    )
    return section(recs, header, rows, subs)


def conditional_table() -> str:
    recs = current("conditional")
    rows = [
        [
            r["recipe"],
            " ".join(r.get("set", [])) or "-",
            num(r["step"]),
            pct(r["requested_class_share"]),
            num(r["mean_per_class_fid"]),
        ]
        for r in recs
    ]
    header = ["recipe", "change", "steps", "share of the requested class", "mean per-class FID"]
    return section(recs, header, rows)


def checkerboard_table() -> str:
    recs = current("checkerboard")
    if not recs:
        return section(recs, [], [])
    rows = []
    for r in recs:
        for kind in ("transposed", "resize"):
            for run in r[kind]["runs"]:
                rows.append(
                    [
                        kind,
                        r[kind]["config"],
                        num(run.get("seed", r["seeds"][0])),
                        num(run["steps"]),
                        num(run["share"]),
                        num(run["share_period2"]),
                    ]
                )
    rows.append(
        [
            "real test images",
            "-",
            "-",
            "-",
            num(recs[0]["real"]["share"]),
            num(recs[0]["real"]["share_period2"]),
        ]
    )
    header = [
        "upsampling",
        "config",
        "seed",
        "G steps in 120 s",
        "share (periods 2, 4)",
        "share (period 2)",
    ]
    return section(recs, header, rows, SEEDS)


def translation_result(r: Record) -> list[tuple[str, str, str]]:
    """(benchmark, budget, result) rows of one translation record: one per side for pix2pix."""
    budget = r.get("budget", {})
    size = (
        f"{num(budget['seconds'])} s"
        if "seconds" in budget
        else f"{num(budget.get('steps'))} steps"
    )
    sides = [
        (k, "GAN" if k == "gan" else "L1-only U-Net") for k in ("gan", "l1_only", "l1_only_6000")
    ]
    if any(k in r for k, _ in sides):
        return [
            (
                f"pix2pix {label}",
                f"{num(r[k]['steps'])} steps"
                if "seconds" in budget or k == "l1_only_6000"
                else size,
                f"FID {num(r[k]['fid'])} (L1 {num(r[k]['l1'])}, {num(r[k]['wall_s'])} s)",
            )
            for k, label in sides
            if k in r
        ]
    if "pairs_same_class" in r:
        return [
            (
                "CoGAN digits / negatives",
                size,
                f"pairs from one z with one class {pct(r['pairs_same_class'])}",
            )
        ]
    ways = {
        k.replace("_to_", " -> "): v for k, v in r.items() if k.endswith(("_to_plain", "_to_item"))
    }
    if ways:
        kept = "; ".join(
            f"{w}: class kept {pct(v['class_kept'])}, FID {num(v['fid'])}" for w, v in ways.items()
        )
        name = "CycleGAN items <-> inverted" if "cyclegan" in r["benchmark"] else "StarGAN"
        return [(name, size, f"cycle L1 {num(r['cycle_l1'])}; {kept}")]
    domains = [d for d in ("plain", "inverted", "edges", "blurred") if d in r]
    return [("classifier trained on each domain (the ceiling)", f"{num(r['epochs'])} epochs",
             "; ".join(f"{d} {pct(r[d]['trained_on_it'])}" for d in domains))]  # fmt: skip


def translation_table() -> str:
    recs = sorted(current("translation"), key=lambda r: r["benchmark"])
    cells: dict[tuple[str, str, str], dict[str, Any]] = {}  # seeds of one setting fold into one row
    for r in recs:
        seed = re.search(r"seed (\d)", r.get("settings", ""))
        settings = " ".join(r.get("set", [])) or "the config"
        for name, size, result in translation_result(r):
            cell = cells.setdefault((name, settings, size), {"seeds": [], "results": []})
            cell["seeds"].append(seed[1] if seed else "0")
            cell["results"].append(result)
    rows = [[name, f"{settings}, seed{'s' * (len(c['seeds']) > 1)} {', '.join(c['seeds'])}", size,
             " / ".join(c["results"])] for (name, settings, size), c in cells.items()]  # fmt: skip
    header = ["benchmark", "settings", "budget", "result (per seed)"]
    subs = ((r" --set .*", " [--set KEY=VALUE ...]"), (r"--(steps|budget) \d+", r"--\1 N"),
            (r"--only [\w-]+", "--only NAME"))  # fmt: skip
    return section(recs, header, rows, subs)


def sequence_table() -> str:
    recs = current("sequence")
    kinds = (("untrained", "untrained G"), ("trained", "trained G"),
             ("floor_real_vs_real", "floor (real vs real)"))  # fmt: skip
    shown = ("w1_mean", "ks_max", "corr_max_error", "valid", "distinct_valid")
    rows = [
        [r["config"], num(r["steps"]), label,
         ", ".join(f"{k} {num(v)}" for k, v in r[key].items() if k in shown)]
        for r in recs for key, label in kinds if key in r
    ]  # fmt: skip
    return section(recs, ["config", "steps", "generator", "measures"], rows)


def stackgan_table() -> str:
    recs = current("stackgan")
    snaps = sorted({r["snap"] for r in recs}, reverse=True)
    by_snap = {
        t: sorted((r for r in recs if r["snap"] == t), key=lambda r: r.get("seed", 0))
        for t in snaps
    }
    kinds = [("accuracy, test-split captions", "test-split captions", pct),
             ("accuracy, held-out orders", "held-out orders", pct),
             ("accuracy, held-out synonyms", "held-out synonyms", pct),
             ("accuracy, training phrasings", "training phrasings", pct),
             ("fid stage 2", "FID of stage II", num)]  # fmt: skip
    rows = [[label, *(spread([r[key] for r in by_snap[t]], show) for t in snaps)]
            for key, label, show in kinds]  # fmt: skip
    subs = (*SEEDS, (r"stackgan-s\d", "stackgan-sS"), (r"--snap [\d.]+", "--snap T"))
    header = ["captions (seeds 0-4)", *(f"snap {t:g}" for t in snaps)]
    return section(recs, header, rows, subs)


def vae_table() -> str:
    recs = current("vae-vs-gan")
    if not recs:
        return section(recs, [], [])
    rows = [
        [
            r["model"],
            num(r["train_s"]),
            f"{num(r['fid'])} ({num(r['fid_floor'])})",
            f"{num(r['precision'])} ({num(r['precision_floor'])})",
            f"{num(r['recall'])} ({num(r['recall_floor'])})",
            num(r["sharpness"]),
        ]
        for rec in recs
        for r in rec["runs"]
    ]
    rows.append(["real test images", "-", "-", "-", "-", num(recs[0]["real_test_sharpness"])])
    header = [
        "model",
        "train wall s",
        "FID (floor)",
        "precision (floor)",
        "recall (floor)",
        "sharpness",
    ]
    return section(recs, header, rows)


def labs_table() -> str:
    recs = current("labs")
    return section(
        recs,
        ["lab", "result"],
        [[r["lab"], r["result"]] for r in recs],
        ((r"gankit lab .*", "gankit lab NAME"),),
    )


def doctor_table() -> str:
    recs = current("doctor")
    rows = [[r["run"], num(r["steps"]), r["expected"], r["events"]] for r in recs]
    return section(recs, ["run", "steps", "expected", "events"], rows)


def did_not_help() -> str:
    lines = []
    for path in sorted(records.RECORDS.glob("*.jsonl")):
        for i, r in enumerate(records.read(path.stem)):
            if "lesson" in r:
                lines.append(f"- {r['lesson']} (`docs/benchmarks/{path.name}`, line {i + 1})")
    return "\n".join(lines)


TABLES: dict[str, Callable[[], str]] = {
    "configs": configs_table,
    "speed": speed_table,
    "gpu": gpu_table,
    "threads": threads_table,
    "cli_startup": cli_startup_table,
    "fid_inception": fid_inception_table,
    "lapgan": lapgan_table,
    "srgan": srgan_table,
    "colourise": colourise_table,
    "time_to_quality": time_to_quality_table,
    "races": races_table,
    "eval_cost": eval_cost_table,
    "toys": toys_table,
    "toys_games": toys_games_table,
    "stacked": stacked_table,
    "sgan": sgan_table,
    "conditional": conditional_table,
    "checkerboard": checkerboard_table,
    "translation": translation_table,
    "sequence": sequence_table,
    "stackgan": stackgan_table,
    "vae": vae_table,
    "labs": labs_table,
    "doctor": doctor_table,
    "did_not_help": did_not_help,
}


def render(template: str) -> str:
    def fill(m: re.Match) -> str:
        name = m.group(1)
        if name not in TABLES:
            raise SystemExit(f"render: the template names an unknown table {{{{ {name} }}}}")
        return TABLES[name]().rstrip()

    return re.sub(r"^\{\{ (\w+) \}\}$", fill, template, flags=re.M)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--check", action="store_true", help="compare with the committed page")
    p.add_argument("--records", type=Path, help="read the records here (default: docs/benchmarks)")
    p.add_argument("--out", type=Path, default=PAGE, help="write the page here")
    a = p.parse_args()
    if a.records:
        records.RECORDS = a.records
    page = render(TEMPLATE.read_text())
    if a.check:
        if a.out.read_text() != page:
            sys.exit("render: docs/BENCHMARKS.md is not what the records give: run bench/render.py")
        print("render: docs/BENCHMARKS.md matches the records")
        return
    a.out.write_text(page)
    print(f"render: wrote {a.out} ({page.count(chr(10))} lines)")


if __name__ == "__main__":
    main()
