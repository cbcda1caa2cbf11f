"""bench/gpu.py, the GPU benchmark, runs end to end on a CPU before it ever meets a GPU."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "bench" / "gpu.py"


@pytest.fixture(scope="module")
def gpu():
    spec = importlib.util.spec_from_file_location("bench_gpu", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_gpu"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def run_script(args: list[str], out: Path, timeout: float = 240) -> tuple[int, dict, str]:
    env = os.environ | {"OUT": str(out), "OMP_NUM_THREADS": "1"}
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    doc = json.loads((out / "gpu-bench.json").read_text())
    return proc.returncode, doc, proc.stdout + proc.stderr


def test_tiny_cpu_run_measures_every_eager_variant_and_says_why_the_rest_are_skipped(tmp_path):
    out = tmp_path / "from-env"  # $OUT wins over --out
    rc, doc, log = run_script(
        ["--device", "cpu", "--tiny", "--data", "random", "--out", str(tmp_path / "no")], out
    )
    assert rc == 0, log
    assert not (tmp_path / "no").exists()
    rows = {(r["case"], r["variant"]): r for r in doc["rows"] if r["kind"] == "step"}
    for case in ("dcgan-64", "resnet-32"):
        for variant in ("eager fp32", "+ bf16 autocast", "+ channels_last"):
            r = rows[(case, variant)]
            assert r["status"] == "ok", r
            # img/s is the batch times the median block's steps/s, and the ratio is the two's
            blocks = sorted(r["steps_per_s_blocks"])
            assert r["img_s"] == pytest.approx(8 * (blocks[0] + blocks[1]) / 2, rel=0.01)
            assert r["ratio"] == pytest.approx(r["img_s"] / r["reference_img_s"], rel=0.02)
            assert r["tflops"] > 0
        assert "CPU" in rows[(case, "+ torch.compile")]["status"]
        assert "CUDA device" in rows[(case, "+ CUDA graphs")]["status"]
        assert rows[(case, "+ channels_last")]["conv_tflops"] > 0
        flops = doc["meta"]["cases"][case]
        assert flops["flops_per_step"] >= flops["conv_flops_per_step"] > 0
    evals = [r for r in doc["rows"] if r["kind"] == "eval"]
    assert evals and all(r["status"].startswith(("ok", "not installed")) for r in evals)
    table = (out / "gpu-bench.md").read_text()
    assert "| dcgan-64 | + channels_last |" in table and table in log  # printed at the end
    assert doc["meta"]["peak"] == "unknown"  # a CPU has no entry in the peak table


def test_time_guard_writes_what_it_has_and_ends_the_process(gpu, tmp_path, monkeypatch):
    exits = []
    monkeypatch.setattr(gpu.os, "_exit", exits.append)  # the guard's way out, caught here
    a = gpu.argparse.Namespace(tiny=True, limit=0.0)
    report = gpu.Report(tmp_path, gpu.describe(torch.device("cpu"), gpu.TINY, a))
    report.meta["running"] = "dcgan-64 eager fp32"
    gpu.guard(report, limit=0.0).join(timeout=10)
    assert exits == [1]
    saved = json.loads((tmp_path / "gpu-bench.json").read_text())["meta"]
    assert saved["stopped"] == "stopped by the time guard at 0 s while running: dcgan-64 eager fp32"
    assert saved["stopped"] in (tmp_path / "gpu-bench.md").read_text()


def test_one_failing_variant_is_a_row_and_the_others_still_run(gpu, tmp_path, monkeypatch):
    real = gpu.measure_variant

    def flaky(case, label, *args):
        if label == "+ bf16 autocast":
            raise RuntimeError("cuDNN said no")
        return real(case, label, *args)

    monkeypatch.setattr(gpu, "measure_variant", flaky)
    a = gpu.argparse.Namespace(tiny=True, data="random", download=False, limit=600.0, reserve=0.0)
    cpu = torch.device("cpu")
    report = gpu.Report(tmp_path, gpu.describe(cpu, gpu.TINY, a))
    case = gpu.setup_case("dcgan-64", gpu.TINY, cpu, a, report)
    gpu.run_variants(case, gpu.VARIANTS, gpu.TINY, cpu, a, report)
    status = {r["variant"]: r["status"] for r in report.rows}
    assert status["+ bf16 autocast"].startswith("error: RuntimeError: cuDNN said no")
    assert status["eager fp32"] == status["+ channels_last"] == "ok"
    saved = json.loads((tmp_path / "gpu-bench.json").read_text())["rows"]
    assert [r["variant"] for r in saved] == [r["variant"] for r in report.rows]


def test_flop_count_of_a_convolution_matches_the_formula(gpu):
    # forward 2*N*Cout*Ho*Wo*Cin*k*k multiply-adds as FLOPs; backward twice that (input and weight)
    conv = torch.nn.Conv2d(3, 8, 3, padding=1, bias=False)
    x = torch.randn(4, 3, 16, 16, requires_grad=True)
    counted = gpu.count_flops(lambda: conv(x).sum().backward())
    forward = 2 * 4 * 8 * 16 * 16 * 3 * 3 * 3
    assert counted["conv"] == 3 * forward
    assert counted["total"] >= counted["conv"]


@pytest.mark.parametrize(
    "name, entry",
    [
        ("NVIDIA H200", "H200 SXM"),
        ("NVIDIA GH200 480GB", "GH200"),
        ("NVIDIA H100 80GB HBM3", "H100 SXM"),
        ("NVIDIA H100 PCIe", "H100 PCIe"),
        ("NVIDIA A100-SXM4-80GB", "A100"),
        ("NVIDIA A10", "A10"),
        ("NVIDIA L4", "L4"),
        ("NVIDIA L40S", "L40S"),
        ("NVIDIA GeForce RTX 4090", "RTX 4090"),
        ("Tesla K80", "unknown"),
    ],
)
def test_device_names_find_their_own_peak_not_a_namesake(gpu, name, entry):
    assert gpu.peak_of(name)[0] == entry
