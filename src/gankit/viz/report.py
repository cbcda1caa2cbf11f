"""DIR/report.html: one self-contained page (images inlined) telling the story of a run."""

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

from gankit.train.runlog import read  # noqa: E402

CURVES = [  # (title, keys) of the panels drawn when the run logged them
    ("Losses", ("d_loss", "g_loss")),
    ("D(x) and D(G(z))", ("d_real", "d_fake")),
    ("Speed (steps/s)", ("steps_per_s",)),
]
TRAINING_KEYS = {"step", "time_s", "steps_per_s", "d_loss", "g_loss", "d_real", "d_fake"}


def write_report(run: Path, max_grids: int = 8) -> Path:
    records = read(run)
    cfg_text = (run / "config.yaml").read_text() if (run / "config.yaml").exists() else ""
    cfg = yaml.safe_load(cfg_text) or {}
    parts = [f"<h1>gankit run: {html.escape(run.name)}</h1>"]
    if cfg.get("description"):
        parts.append(f"<p>{html.escape(cfg['description'])}</p>")
    parts.append(_curves(records))
    parts.append(_metric_table(records))
    grids = sorted((run / "samples").glob("step-*.png"))
    if grids:
        chosen = [
            grids[round(i * (len(grids) - 1) / max(1, max_grids - 1))]
            for i in range(min(max_grids, len(grids)))
        ]
        figures = "".join(
            f'<figure><img src="{_inline(p.read_bytes())}" width="256">'
            f"<figcaption>{html.escape(p.stem)}</figcaption></figure>"
            for p in dict.fromkeys(chosen)
        )
        parts.append(f"<h2>Samples over time</h2><div class='row'>{figures}</div>")
    parts.append(f"<h2>Config</h2><pre>{html.escape(cfg_text)}</pre>")
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>gankit report</title><style>"
        "body{font-family:sans-serif;max-width:1100px;margin:2em auto}"
        ".row{display:flex;flex-wrap:wrap;gap:8px}figure{margin:0}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px}"
        "</style></head><body>" + "".join(parts) + "</body></html>"
    )
    path = run / "report.html"
    path.write_text(page)
    return path


def _curves(records: list[dict[str, Any]]) -> str:
    panels = [(t, [k for k in keys if any(k in r for r in records)]) for t, keys in CURVES]
    panels = [(t, keys) for t, keys in panels if keys]
    if not panels:
        return ""
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.2), dpi=90)
    for ax, (title, keys) in zip(axes if len(panels) > 1 else [axes], panels):
        for key in keys:
            pts = [(r["step"], r[key]) for r in records if key in r]
            ax.plot(*zip(*pts), label=key)
        ax.set_title(title)
        ax.set_xlabel("step")
        ax.legend()
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return f"<h2>Training curves</h2><img src='{_inline(buf.getvalue())}'>"


def _metric_table(records: list[dict[str, Any]]) -> str:
    """Evaluation records (anything beyond the training scalars), with their floors."""
    rows = [r for r in records if set(r) - TRAINING_KEYS - {"protocol", "doctor"}]
    if not rows:
        return ""
    keys = sorted(
        {k for r in rows for k in r} - {"step", "time_s", "protocol", "doctor"} - TRAINING_KEYS
    )
    head = "".join(f"<th>{html.escape(k)}</th>" for k in ["step", *keys])
    body = "".join(
        "<tr>" + "".join(f"<td>{_fmt(r.get(k, ''))}</td>" for k in ["step", *keys]) + "</tr>"
        for r in rows
    )
    return f"<h2>Metrics</h2><table><tr>{head}</tr>{body}</table>"


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else html.escape(str(value))


def _inline(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()
