"""DIR/report.html: one self-contained page (images inlined) telling the story of a run.

Sections, each shown when the run has something for it: the resume history (which settings
changed at which step), the doctor's events (what went wrong, why, what to try), training curves
(losses, D(x) and D(G(z)), gradient norms, sample diversity, speed), metric tables with their
floors, sample grids over time, and the resolved config.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import yaml  # noqa: E402

from gankit import files  # noqa: E402
from gankit.config import DataConfig  # noqa: E402
from gankit.describe import data_phrase  # noqa: E402
from gankit.train.resume_policy import history, show  # noqa: E402
from gankit.train.runlog import read  # noqa: E402

CURVES = [  # (title, rule picking the keys) of the panels drawn when the run logged them
    ("Losses", lambda k: k.endswith("_loss")),
    ("D(x) and D(G(z))", lambda k: k in ("d_real", "d_fake")),
    ("Gradient norms (log scale)", lambda k: "grad_norm" in k),
    ("Diversity (generated / real)", lambda k: k in ("diversity", "class_coverage")),
    ("Speed (steps/s)", lambda k: k == "steps_per_s"),
]
LOG_SCALE = {"Gradient norms (log scale)"}
NOT_METRICS = {"step", "time_s", "protocol", "doctor", "eval_skipped"}
STYLE = (
    "body{font-family:sans-serif;max-width:1150px;margin:2em auto;color:#222}"
    ".row{display:flex;flex-wrap:wrap;gap:8px}figure{margin:0}figcaption{font-size:12px}"
    "table{border-collapse:collapse;margin-bottom:1em}td,th{border:1px solid #ccc;padding:3px 8px}"
    "td.num{text-align:right;font-variant-numeric:tabular-nums}"
    ".event{border-left:5px solid #d9822b;background:#fff7ec;padding:6px 12px;margin:8px 0}"
    ".ok{border-left:5px solid #3a9a4a;background:#f0faf1;padding:6px 12px}"
    "pre{background:#f6f6f6;padding:8px;overflow:auto}"
)


def write_report(run: Path, max_grids: int = 8) -> Path:
    """Write run/report.html from the run's config, metrics.jsonl and samples/; returns it."""
    records = read(run)
    cfg_text = (run / "config.yaml").read_text() if (run / "config.yaml").exists() else ""
    cfg = yaml.safe_load(cfg_text) or {}
    training = [r for r in records if not is_evaluation(r)]
    parts = [f"<h1>gankit run: {html.escape(run.name)}</h1>"]
    if cfg.get("description"):
        parts.append(f"<p>{html.escape(cfg['description'])}</p>")
    parts.append(summary(cfg, records))
    parts.append(resume_history(history(run)))
    parts.append(doctor_section(records, bool(training)))
    parts.append(curves(training))
    parts.append(metric_tables([r for r in records if is_evaluation(r)]))
    parts.append(skipped_evaluations(records))
    parts.append(sample_grids(run, "step-*.png", "Samples over time", max_grids))
    parts.append(sample_grids(run, "classes-step-*.png", "Samples per class over time", 4))
    parts.append(sample_grids(run, "levels-step-*.png", "Pyramid levels, coarse to fine", 4))
    parts.append(f"<h2>Config</h2><pre>{html.escape(cfg_text)}</pre>")
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>gankit report: "
        f"{html.escape(run.name)}</title><style>{STYLE}</style></head><body>"
        + "".join(parts)
        + "</body></html>"
    )
    path = run / "report.html"
    with files.writing(path):
        path.write_text(page)
    return path


def is_evaluation(record: dict[str, Any]) -> bool:
    """An evaluation record (gankit.metrics): it has a protocol or metrics with floors."""
    return "protocol" in record or any(k.endswith("_floor") for k in record)


def summary(cfg: dict[str, Any], records: list[dict[str, Any]]) -> str:
    last = max((r.get("step", 0) for r in records), default=0)
    data, nets, loss = cfg.get("data", {}), cfg.get("nets", {}), cfg.get("loss", {})
    facts = {
        "recipe": cfg.get("recipe", "?"),
        "data": data_phrase(DataConfig(**data)) if data.get("name") else "?",
        "networks": f"G {nets.get('g', '?')}, D {nets.get('d', '?')}",
        "game": f"{loss.get('name', '?')} (penalty {loss.get('penalty', '?')})",
        "steps logged": f"{last} of {cfg.get('train', {}).get('steps', '?')}",
    }
    rows = "".join(f"<tr><th>{k}</th><td>{html.escape(str(v))}</td></tr>" for k, v in facts.items())
    return f"<table>{rows}</table>"


def resume_history(entries: list[dict[str, Any]]) -> str:
    """A row per resume: its step, the settings it changed, whether the optimisers restarted."""
    if not entries:
        return ""
    rows = []
    for e in entries:
        changed = "; ".join(
            f"{k}: {show(old)} → {show(new)}" for k, (old, new) in e["changed"].items()
        )
        fresh = "reset (fresh state)" if e.get("reset_optimizer") else "kept"
        rows.append(
            f"<tr><td class='num'>{e['step']}</td><td>{html.escape(changed or 'none')}</td>"
            f"<td>{fresh}</td></tr>"
        )
    head = "<tr><th>resumed at step</th><th>settings changed</th><th>optimiser state</th></tr>"
    return f"<h2>Resume history</h2><table>{head}{''.join(rows)}</table>"


def doctor_section(records: list[dict[str, Any]], trained: bool) -> str:
    events = [e for r in records for e in r.get("doctor", [])]
    if not events:
        quiet = "The training doctor watched this run and found nothing to flag."
        return f"<h2>Doctor events</h2><div class='ok'>{quiet}</div>" if trained else ""
    items = "".join(
        f"<div class='event'><b>step {e.get('step')}: {html.escape(e.get('title', ''))}</b>"
        f"<p>{html.escape(e.get('why', ''))}</p><ul>"
        + "".join(f"<li>{html.escape(f)}</li>" for f in e.get("fixes", []))
        + "</ul></div>"
        for e in events
    )
    return f"<h2>Doctor events</h2>{items}"


def curves(records: list[dict[str, Any]]) -> str:
    keys = sorted({k for r in records for k, v in r.items() if isinstance(v, (int, float))})
    panels = [(t, [k for k in keys if rule(k)]) for t, rule in CURVES]
    panels = [(t, ks) for t, ks in panels if ks]
    if not panels:
        return ""
    cols = min(3, len(panels))
    rows = -(-len(panels) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), dpi=90, squeeze=False)
    for ax in axes.ravel()[len(panels) :]:
        ax.axis("off")
    for ax, (title, ks) in zip(axes.ravel(), panels):
        for key in ks:
            pts = [(r["step"], r[key]) for r in records if isinstance(r.get(key), (int, float))]
            if pts:
                ax.plot(*zip(*pts), label=key)
        if title in LOG_SCALE:
            ax.set_yscale("log")
        ax.set_title(title)
        ax.set_xlabel("step")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return f"<h2>Training curves</h2><img src='{figure_png(fig)}'>"


def metric_tables(rows: list[dict[str, Any]]) -> str:
    """One table: a row per evaluation and metric, with the metric's floor beside it."""
    if not rows:
        return ""
    body = []
    for r in rows:
        names = [k for k in r if k not in NOT_METRICS and not k.endswith("_floor")]
        for name in names:
            floor = r.get(f"{name}_floor", "")
            body.append(
                f"<tr><td class='num'>{r.get('step', '')}</td><td>{html.escape(name)}</td>"
                f"<td class='num'>{fmt(r[name])}</td><td class='num'>{fmt(floor)}</td></tr>"
            )
    note = (
        "<p>The floor is the same metric for held-out real data: what a perfect generator "
        "would score at this sample count.</p>"
    )
    head = "<tr><th>step</th><th>metric</th><th>value</th><th>floor (real data)</th></tr>"
    return f"<h2>Metrics</h2>{note}<table>{head}{''.join(body)}</table>"


def skipped_evaluations(records: list[dict[str, Any]]) -> str:
    """Evaluations the run could not make (no evaluator for its data), with the reason."""
    notes = [r for r in records if r.get("eval_skipped")]
    if not notes:
        return ""
    items = "".join(
        f"<div class='event'><b>step {r.get('step')}: evaluation skipped</b>"
        f"<p>{html.escape(r['eval_skipped'])}</p></div>"
        for r in notes
    )
    return f"<h2>Evaluation</h2>{items}"


def sample_grids(run: Path, pattern: str, title: str, max_grids: int) -> str:
    grids = sorted((run / "samples").glob(pattern))
    if not grids:
        return ""
    shown = min(max_grids, len(grids))  # spread evenly from the first grid to the last
    chosen = [grids[round(i * (len(grids) - 1) / max(1, shown - 1))] for i in range(shown)]
    figures = "".join(
        f'<figure><img src="{inline(p.read_bytes())}" width="256">'
        f"<figcaption>{html.escape(p.stem)}</figcaption></figure>"
        for p in dict.fromkeys(chosen)
    )
    return f"<h2>{title}</h2><div class='row'>{figures}</div>"


def fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (dict, list)):
        return html.escape(", ".join(map(str, value))[:80] if isinstance(value, list) else "…")
    return html.escape(str(value))


def figure_png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return inline(buf.getvalue())


def inline(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()
