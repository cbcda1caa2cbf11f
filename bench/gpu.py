"""One command for a GPU: gankit's training step and evaluation, measured and written down.

    python bench/gpu.py                          # a CUDA GPU: at most 8 minutes, then two files
    python bench/gpu.py --device cpu --tiny      # the same code, tiny, on a CPU (a smoke run)

What it measures, on one device, in one process:
- img/s of the training step for dcgan-64 (configs/dcgan-fashion.yaml at 64x64) and resnet-32
  (configs/resnet-sn-hinge-fashion.yaml, SNGAN: ResNet G and D, spectral-norm D, hinge, EMA, at
  32x32 with the paper's width 128) at batch 256, for gankit eager fp32, then adding bf16
  autocast, channels_last, torch.compile and CUDA graphs one after the other (train.amp,
  train.channels_last, train.compile, train.cuda_graphs). Each variant runs in blocks that
  alternate with blocks of the pytorch/examples-style reference loop (bench/speed.py's, on the
  same networks with the same initial weights), after warm-up; the median block counts.
- achieved TFLOP/s: FLOPs of one step counted by torch.utils.flop_counter.FlopCounterMode on the
  eager step (convolutions and matmuls; it counts no element-wise work), times steps/s, against
  the device's peak (bf16 dense for bf16 rows, fp32 for fp32 rows; "unknown" for a device not in
  PEAKS), and the convolutions' own throughput (their FLOPs over their kernel time in
  torch.profiler) for the best eager variant;
- peak memory of each variant's steps (torch.cuda.max_memory_allocated);
- the time of `gankit.api.evaluate` on 10,000 samples with the Inception extractor, when its
  weights are installed (a "not installed" row otherwise).

Single-GPU numbers only: two DDP processes on one GPU share it and say nothing about scaling (see
docs/DISTRIBUTED.md for the multi-GPU command). Each variant runs in its own try/except, so one
failure is a row with its error; the eager variants of both cases run first, then the eval, then
the compiled variants, and a time guard ends the run --limit seconds after start-up (420 by
default, so that start-up and the last write fit in the 8 minutes) with what it has. The JSON and
the markdown table are rewritten after every row, into $OUT when that is set, else into --out; the
table is printed at the end. Exit status 0: every row ran (or was skipped for a stated reason); 1:
a row failed or the time guard stopped the run.
"""

from __future__ import annotations

import argparse
import copy
import gc
import json
import os
import platform
import re
import statistics
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

from gankit import api, config, data
from gankit.data import BatchStream
from gankit.errors import BadInput
from gankit.train.trainer import build_recipe

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speed import Reference, reference_loader  # noqa: E402  (the one reference loop)
from speed import timed as steps_per_s  # noqa: E402  (the one timer of both)

STARTED = time.perf_counter()
ROOT = Path(__file__).resolve().parent.parent

CASES = {  # name: (shipped config, overrides that make it the benchmarked network)
    "dcgan-64": ("configs/dcgan-fashion.yaml", ["data.size=64"]),
    "resnet-32": (
        "configs/resnet-sn-hinge-fashion.yaml",
        ["data.size=32", "nets.g_options.width=128", "nets.d_options.width=128"],
    ),
}

# Each variant adds one switch to those before it, so the last has every switch on.
LADDER = [
    ("eager fp32", None),
    ("+ bf16 autocast", "train.amp=true"),
    ("+ channels_last", "train.channels_last=true"),
    ("+ torch.compile", "train.compile=true"),
    ("+ CUDA graphs", "train.cuda_graphs=true"),
]
VARIANTS = [(label, [o for _, o in LADDER[: i + 1] if o]) for i, (label, _) in enumerate(LADDER)]
EAGER = [v for v in VARIANTS if "train.compile=true" not in v[1]]
COMPILED = [v for v in VARIANTS if v not in EAGER]
REFERENCE = "reference (pytorch/examples loop, eager fp32)"
BEST_EAGER = "+ channels_last"  # where the convolutions' own throughput is profiled

# Vendor datasheet peaks in TFLOP/s: bf16 tensor-core dense (no sparsity), plain fp32 (no TF32).
# Checked in order, so a specific name comes before a name it contains.
PEAKS = [
    (r"GH200", "GH200", 989.4, 66.9),
    (r"H200 NVL", "H200 NVL", 835.0, 60.0),
    (r"H200", "H200 SXM", 989.4, 66.9),
    (r"H100 PCIe", "H100 PCIe", 756.0, 51.2),
    (r"H100 NVL", "H100 NVL", 835.0, 60.0),
    (r"H100", "H100 SXM", 989.4, 66.9),
    (r"A100", "A100", 312.0, 19.5),
    (r"L40S", "L40S", 362.1, 91.6),
    (r"L40\b", "L40", 181.0, 90.5),
    (r"\bL4\b", "L4", 121.0, 30.3),
    (r"\bA10\b", "A10", 125.0, 31.2),
    (r"RTX 4090", "RTX 4090", 165.2, 82.6),
    (r"RTX 3090", "RTX 3090", 71.0, 35.6),
]

DDP_NOTE = (
    "single-GPU numbers only: a 2-process DDP run on one GPU shares it and measures no scaling. "
    "Multi-GPU: torchrun --standalone --nproc_per_node N -m gankit train CONFIG "
    "(docs/DISTRIBUTED.md); "
    "the step adds one all-reduce of G's and D's gradients per update, so throughput should scale "
    "close to linearly while each GPU's share of the batch keeps it busy."
)


@dataclass
class Settings:
    batch: int
    steps: int  # steps per timed block
    repeats: int  # timed blocks per variant (and as many reference blocks)
    warmup: int
    eval_n: int


FULL = Settings(batch=256, steps=20, repeats=5, warmup=3, eval_n=10_000)
TINY = Settings(batch=8, steps=2, repeats=2, warmup=1, eval_n=64)


@dataclass
class Report:
    """Rows and facts of the run, rewritten to JSON and markdown after every change."""

    out: Path
    meta: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, row: dict[str, Any]) -> None:
        with self.lock:
            self.rows.append(row)
        self.write()
        print(json.dumps(row), flush=True)

    def write(self) -> None:
        with self.lock:
            self.meta["elapsed_s"] = round(time.perf_counter() - STARTED, 1)
            self.out.mkdir(parents=True, exist_ok=True)
            doc = {"meta": self.meta, "rows": self.rows}
            (self.out / "gpu-bench.json").write_text(json.dumps(doc, indent=1) + "\n")
            (self.out / "gpu-bench.md").write_text(markdown(self.meta, self.rows))


def markdown(meta: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    def cell(row: dict[str, Any], key: str) -> str:
        v = row.get(key)
        return "" if v is None else str(v)

    lines = [
        f"**{meta['device']}** · torch {meta['torch']} · peak {meta['peak']} · "
        f"batch {meta['settings']['batch']} · median of {meta['settings']['repeats']} blocks of "
        f"{meta['settings']['steps']} steps, alternating with the reference · {meta['date']}",
        "",
        "| case | variant | img/s | reference img/s | ratio | TFLOP/s | % of peak | "
        "peak memory MiB | status |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    keys = ["img_s", "reference_img_s", "ratio", "tflops", "pct_of_peak", "peak_mib", "status"]
    order = ["(setup)"] + [label for label, _ in VARIANTS] + [REFERENCE]
    steps = [r for r in rows if r["kind"] == "step"]  # measured eager first; listed by case

    def place(r: dict[str, Any]) -> tuple[int, int]:
        return list(CASES).index(r["case"]), order.index(r["variant"])

    for r in sorted(steps, key=place):
        cells = " | ".join(cell(r, k) for k in keys)
        lines.append(f"| {r['case']} | {r['variant']} | {cells} |")
    extras = [conv_line(r) for r in rows if "conv_tflops" in r]
    extras += [r for r in rows if r["kind"] != "step"]
    if extras:
        lines += ["", "| measurement | value | status |", "|---|---|---|"]
        lines += [f"| {r['what']} | {cell(r, 'value')} | {r['status']} |" for r in extras]
    lines += ["", f"- {meta['ddp']}", f"- rerun: `{meta['command']}`"]
    if meta.get("stopped"):
        lines.append(f"- **{meta['stopped']}**")
    return "\n".join(lines) + "\n"


def conv_line(row: dict[str, Any]) -> dict[str, Any]:
    """The convolutions' own throughput of a step row, as a line of the measurements table."""
    pct, value = row.get("conv_pct_of_bf16_peak"), row["conv_tflops"]
    if isinstance(value, str):  # the profiler failed: value is the error
        status = "failed"
    else:
        status = "peak unknown" if pct is None else f"{pct} % of the bf16 dense peak"
    what = f"{row['case']} convolutions alone ({row['variant']}, eager), TFLOP/s"
    return {"what": what, "value": value, "status": status}


# -- the device and its peak -----------------------------------------------------------------
def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    n = torch.get_num_threads()
    return f"CPU ({platform.machine()}, {n} thread{'s' if n != 1 else ''})"


def peak_of(name: str) -> tuple[str, float | None, float | None]:
    """(table entry, bf16 dense TFLOP/s, fp32 TFLOP/s) of a device name; None where unknown."""
    for pattern, label, bf16, fp32 in PEAKS:
        if re.search(pattern, name):
            return label, bf16, fp32
    return "unknown", None, None


def sig(x: float, digits: int = 4) -> float:
    """x to `digits` significant figures: a CPU smoke run's 2e-05 TFLOP/s must not print as 0."""
    return float(f"{x:.{digits}g}")


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


# -- one case: its data, its reference, its FLOPs ---------------------------------------------
def case_config(
    case: str, variant: list[str], s: Settings, device: torch.device, a: argparse.Namespace
) -> config.Config:
    path, overrides = CASES[case]
    if a.tiny:  # narrow networks: a tiny run checks the code, not the networks' speed
        overrides = [o for o in overrides if "width" not in o]
        overrides += ["nets.g_options.width=16", "nets.d_options.width=16"]
    run = [
        f"train.batch_size={s.batch}",
        f"train.device={device}",
        "train.progress=false",
        "train.seed=0",
        # a machine without network must not wait on a download: random images stand in
        f"data.download={str(a.download).lower()}",
    ]
    return config.load(ROOT / path, overrides + run + variant)


def load_data(cfg: config.Config, source: str, n: int) -> tuple[data.Dataset, str]:
    """The config's dataset, or random images of its shape (step speed ignores the pixels)."""
    side, why = cfg.data.size, "asked for"
    if source == "dataset":
        try:
            return data.build(cfg.data), cfg.data.name
        except Exception as e:  # no files and no network: still measure the step
            why = f"{cfg.data.name} not loadable: {failure(e)}"
            print(f"gpu.py: {why}; random images stand in", flush=True)
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (n, 1, side, side), dtype=torch.uint8, generator=g)
    return data.Dataset("random", x, "image"), f"random uint8 images {side}x{side} ({why})"


def count_flops(step: Callable[[], Any]) -> dict[str, int]:
    """FLOPs of one call of step: all of them, and those of the convolutions (fwd + bwd)."""
    with FlopCounterMode(display=False) as counter:
        step()
    ops = counter.get_flop_counts().get("Global", {})
    conv = sum(v for op, v in ops.items() if "convolution" in str(op))
    return {"total": counter.get_total_flops(), "conv": conv}


def conv_tflops(
    step: Callable[[], Any], conv_flops: int, steps: int, device: torch.device
) -> float:
    """The convolutions' FLOPs over the time their kernels took (torch.profiler), in TFLOP/s."""
    from torch.profiler import ProfilerActivity, profile

    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    sync(device)
    with profile(activities=acts) as prof:
        for _ in range(steps):
            step()
        sync(device)
    attr = "device_time_total" if device.type == "cuda" else "cpu_time_total"
    names = ("aten::convolution", "aten::convolution_backward")
    us = sum(getattr(e, attr) for e in prof.key_averages() if e.key in names)
    if us <= 0:
        raise RuntimeError(f"the profiler recorded no {attr} for the convolutions")
    return conv_flops * steps / (us * 1e-6) / 1e12


def achieved(flops: int | None, rate: float, peak: float | None) -> tuple[float | None, ...]:
    """(TFLOP/s, % of peak) of flops per step at rate steps/s; None for what is not known."""
    if flops is None:
        return None, None
    tflops = flops * rate / 1e12
    return sig(tflops), None if peak is None else sig(100 * tflops / peak)


@dataclass
class Case:
    name: str
    data: data.Dataset
    data_name: str
    reference: Reference
    flops: dict[str, int | None]  # of gankit's eager step (None where counting failed)
    reference_flops: int | None
    reference_rates: list[float] = field(default_factory=list)


def prepare_case(name: str, s: Settings, device: torch.device, a: argparse.Namespace) -> Case:
    """Data, the reference loop on copies of gankit's freshly built networks, and FLOPs/step."""
    cfg = case_config(name, [], s, device, a)
    ds, data_name = load_data(cfg, a.data, max(20 * s.batch, 2_000))
    recipe = build_recipe(cfg, ds.spec, device)
    g, d = copy.deepcopy(recipe.modules["g"]), copy.deepcopy(recipe.modules["d"])
    loader = reference_loader(ds, s.batch, cfg.data.size)
    ref = Reference(g, d, loader, device, cfg.nets.z_dim)
    stream = BatchStream(ds, s.batch, 0, device)
    recipe.step(stream)  # the first step builds lazy state (optimiser moments, EMA copy)
    ref.step()
    try:  # FLOPs are a side measurement: without them the rows still get their img/s
        flops = count_flops(lambda: recipe.step(stream))
        ref_flops = count_flops(ref.step)["total"]
    except Exception as e:
        print(f"gpu.py: {name}: no FLOP count ({failure(e)})", flush=True)
        flops, ref_flops = {"total": None, "conv": None}, None
    return Case(name, ds, data_name, ref, flops, ref_flops)


# -- one variant of the step ------------------------------------------------------------------
def skip_reason(overrides: list[str], device: torch.device) -> str | None:
    if device.type == "cuda":
        return None
    if "train.cuda_graphs=true" in overrides:
        return "skipped: CUDA graphs need a CUDA device"
    if "train.compile=true" in overrides:
        return (
            "skipped on the CPU: compiling G and D takes minutes on a small CPU, and the "
            "compiled speed this script is for is the GPU's"
        )
    return None


def measure_variant(
    case: Case,
    label: str,
    overrides: list[str],
    s: Settings,
    device: torch.device,
    a: argparse.Namespace,
) -> dict[str, Any]:
    cfg = case_config(case.name, overrides, s, device, a)
    recipe = build_recipe(cfg, case.data.spec, device)
    stream = BatchStream(case.data, s.batch, 0, device)

    def step() -> None:
        recipe.step(stream)

    for _ in range(s.warmup + (2 if cfg.train.compile else 0)):  # compiling and recording
        step()
    sync(device)
    peak_mib = None
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        steps_per_s(step, s.steps, device)
        peak_mib = round(torch.cuda.max_memory_allocated(device) / 2**20, 1)
    ours, theirs = [], []
    for _ in range(s.repeats):  # alternating blocks: load on the machine hits both alike
        ours.append(steps_per_s(step, s.steps, device))
        theirs.append(steps_per_s(case.reference.step, s.steps, device))
    case.reference_rates += theirs
    rate, ref_rate = statistics.median(ours), statistics.median(theirs)
    _, bf16, fp32 = peak_of(device_name(device))
    peak = bf16 if cfg.train.amp else fp32
    tflops, pct = achieved(case.flops["total"], rate, peak)
    row = {
        "img_s": sig(rate * s.batch),
        "reference_img_s": sig(ref_rate * s.batch),
        "ratio": round(rate / ref_rate, 2),
        "tflops": tflops,
        "pct_of_peak": pct,
        "peak_precision": "bf16 dense" if cfg.train.amp else "fp32",
        "peak_mib": peak_mib,
        "steps_per_s_blocks": [sig(v) for v in ours],
        "reference_steps_per_s_blocks": [sig(v) for v in theirs],
        "status": "ok",
    }
    if label == BEST_EAGER and case.flops["conv"] is not None:
        try:
            conv = conv_tflops(step, case.flops["conv"], s.steps, device)
            row["conv_tflops"] = sig(conv)
            row["conv_pct_of_bf16_peak"] = None if bf16 is None else sig(100 * conv / bf16)
        except Exception as e:  # the profiler can be missing (no CUPTI): keep the row's img/s
            row["conv_tflops"] = failure(e)
    return row


def setup_case(
    name: str, s: Settings, device: torch.device, a: argparse.Namespace, report: Report
) -> Case | None:
    """The case ready to measure, or None after a row saying why it could not be set up."""
    report.meta["running"] = f"{name}: preparing data, reference and FLOP count"
    try:
        case = prepare_case(name, s, device, a)
    except Exception as e:
        report.add({"kind": "step", "case": name, "variant": "(setup)", "status": failure(e)})
        return None
    report.meta["cases"][name] = {
        "data": case.data_name,
        "flops_per_step": case.flops["total"],
        "conv_flops_per_step": case.flops["conv"],
        "reference_flops_per_step": case.reference_flops,
        "data_mib_on_device": round(case.data.x.numel() / 2**20, 1),  # inside peak memory
    }
    return case


def run_variants(
    case: Case,
    variants: list[tuple[str, list[str]]],
    s: Settings,
    device: torch.device,
    a: argparse.Namespace,
    report: Report,
) -> None:
    """One row per variant: its figures, its error, or why it was skipped."""
    for label, overrides in variants:
        row = {"kind": "step", "case": case.name, "variant": label}
        reason = skip_reason(overrides, device)
        left = a.limit - (time.perf_counter() - STARTED)
        if reason is None and left < a.reserve:
            reason = f"skipped: {left:.0f} s left of the {a.limit:.0f} s limit"
        if reason:
            report.add(row | {"status": reason})
            continue
        report.meta["running"] = f"{case.name} {label}"
        try:
            row |= measure_variant(case, label, overrides, s, device, a)
        except Exception as e:
            row["status"] = failure(e)
        finally:
            torch._dynamo.reset()  # a compiled variant's graphs must not leak into the next
            gc.collect()  # nor its networks into the next variant's peak memory
            if device.type == "cuda":
                torch.cuda.empty_cache()
        report.add(row)


def add_reference_row(case: Case, s: Settings, device: torch.device, report: Report) -> None:
    """The reference loop's own row: the median of all its blocks beside every variant."""
    if not case.reference_rates:
        return
    rate = statistics.median(case.reference_rates)
    _, _, fp32 = peak_of(device_name(device))
    tflops, pct = achieved(case.reference_flops, rate, fp32)
    report.add(
        {
            "kind": "step",
            "case": case.name,
            "variant": REFERENCE,
            "img_s": sig(rate * s.batch),
            "tflops": tflops,
            "pct_of_peak": pct,
            "peak_precision": "fp32",
            "status": f"ok (median of all {len(case.reference_rates)} reference blocks)",
        }
    )


# -- evaluation -------------------------------------------------------------------------------
def run_eval(s: Settings, device: torch.device, a: argparse.Namespace, report: Report) -> None:
    """Wall time of api.evaluate(n samples, FID, Inception extractor): first call (real-data
    features computed unless cached), then a second call (cache warm)."""
    what = f"gankit eval, {s.eval_n} samples, FID, Inception extractor (dcgan-64 G)"
    report.meta["running"] = what
    try:
        cfg = case_config("dcgan-64", [], s, device, a)
        spec = data.DataSpec(cfg.data.name, "image", (1, cfg.data.size, cfg.data.size))
        loaded = api.LoadedRun(cfg, spec, build_recipe(cfg, spec, device), 0)
        for call in ("first call", "second call (cache warm)"):
            left = a.limit - (time.perf_counter() - STARTED)
            if left < a.reserve:
                report.add({"kind": "eval", "what": f"{what}: {call}", "status": "skipped: time"})
                continue
            start = time.perf_counter()
            result = api.evaluate(
                loaded,
                n=s.eval_n,
                metrics=["fid"],
                extractor="inception",
                inception_weights=a.inception_weights,
            )
            seconds = time.perf_counter() - start
            fid = result["fid"]
            fid = fid.get("value", fid) if isinstance(fid, dict) else fid
            report.add(
                {
                    "kind": "eval",
                    "what": f"{what}: {call}",
                    "value": f"{seconds:.1f} s",
                    "seconds": round(seconds, 2),
                    "status": f"ok (FID of an untrained G: {fid})",
                }
            )
    except BadInput as e:  # no weights file: the extractor is not installed on this machine
        report.add({"kind": "eval", "what": what, "status": f"not installed: {e}"})
    except Exception as e:
        report.add({"kind": "eval", "what": what, "status": failure(e)})


# -- the run ----------------------------------------------------------------------------------
def failure(e: BaseException) -> str:
    where = traceback.extract_tb(e.__traceback__)[-1] if e.__traceback__ else None
    at = f" at {Path(where.filename).name}:{where.lineno}" if where else ""
    return f"error: {type(e).__name__}: {str(e).splitlines()[0][:300] if str(e) else ''}{at}"


def guard(report: Report, limit: float) -> threading.Timer:
    """At the limit, write what there is and end the process, whatever is running."""

    def stop() -> None:
        report.meta["stopped"] = (
            f"stopped by the time guard at {limit:.0f} s while running: {report.meta['running']}"
        )
        report.write()
        print(markdown(report.meta, report.rows), flush=True)
        os._exit(1)

    timer = threading.Timer(max(limit - (time.perf_counter() - STARTED), 0), stop)
    timer.daemon = True
    timer.start()
    return timer


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--device", default="cuda", help="cuda, cuda:N or cpu")
    p.add_argument("--tiny", action="store_true", help="batch 8, 2 blocks of 2 steps: a smoke run")
    p.add_argument("--cases", nargs="*", default=list(CASES), choices=list(CASES))
    p.add_argument(
        "--data",
        choices=["dataset", "random"],
        default="dataset",
        help="the configs' Fashion-MNIST (random images when it cannot be loaded), "
        "or random images",
    )
    p.add_argument(
        "--download",
        action="store_true",
        help="let gankit download Fashion-MNIST when it is not on the machine (default: random "
        "images stand in for the step, and the eval row says the data is missing)",
    )
    p.add_argument("--limit", type=float, default=420.0, help="seconds after start-up")
    p.add_argument(
        "--reserve",
        type=float,
        default=None,
        help="seconds that must be left to start a variant (default: 30; tiny: 2)",
    )
    p.add_argument(
        "--inception-weights",
        default=None,
        help="local Inception weights for the eval row (default: the extractor's own)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path("runs/bench-gpu"),
        help="folder for gpu-bench.json and gpu-bench.md ($OUT wins when set)",
    )
    a = p.parse_args()
    if a.reserve is None:
        a.reserve = 2.0 if a.tiny else 30.0
    return a


def describe(device: torch.device, s: Settings, a: argparse.Namespace) -> dict[str, Any]:
    """What the JSON and the table say about the run: machine, software, settings."""
    name = device_name(device)
    label, bf16, fp32 = peak_of(name)
    return {
        "command": "python bench/gpu.py " + " ".join(sys.argv[1:]),
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "device": name,
        "peak": f"{label} (bf16 dense {bf16}, fp32 {fp32} TFLOP/s)" if bf16 else "unknown",
        "peak_tflops": {"entry": label, "bf16_dense": bf16, "fp32": fp32},
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "python": platform.python_version(),
        # cuDNN runs fp32 convolutions as TF32 by default: fp32 rows can pass the fp32 peak
        "cudnn_allow_tf32": torch.backends.cudnn.allow_tf32,
        "float32_matmul_precision": torch.get_float32_matmul_precision(),
        "settings": vars(s),
        "limit_s": a.limit,
        "tiny": a.tiny,
        "cases": {},
        "ddp": DDP_NOTE,
        "running": "start",
    }


def main() -> int:
    a = parse()
    device = torch.device(a.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print(
            "gpu.py: no CUDA device here; for a CPU smoke run: --device cpu --tiny", file=sys.stderr
        )
        return 2
    s = TINY if a.tiny else FULL
    if a.tiny and device.type == "cpu":  # a smoke run: one thread keeps a shared CPU responsive
        torch.set_num_threads(1)
    out = Path(os.environ["OUT"]) if os.environ.get("OUT") else a.out
    report = Report(out, describe(device, s, a))
    report.write()
    timer = guard(report, a.limit)
    try:
        cases = [c for c in (setup_case(n, s, device, a, report) for n in a.cases) if c]
        # What is needed most comes first, should the time guard stop the run: the eager steps,
        # the eval, then the compiled steps (whose compiling alone can take minutes).
        for case in cases:
            run_variants(case, EAGER, s, device, a, report)
        run_eval(s, device, a, report)
        for case in cases:
            run_variants(case, COMPILED, s, device, a, report)
        for case in cases:
            add_reference_row(case, s, device, report)
    finally:
        timer.cancel()
    report.meta["running"] = "done"
    report.write()
    print()
    print(markdown(report.meta, report.rows))
    print(f"wrote {out / 'gpu-bench.json'} and {out / 'gpu-bench.md'}")
    failed = any(r["status"].startswith("error") for r in report.rows)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
