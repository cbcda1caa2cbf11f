"""The run report: one self-contained page with curves, doctor events, floors."""

import json

from gankit.viz.report import write_report


def test_report_sections(tmp_path):
    records = [
        {"step": 10, "time_s": 1.0, "d_loss": 1.3, "g_loss": 0.7, "d_real": 0.6, "d_fake": 0.4,
         "g_grad_norm": 1.5, "diversity": 0.9},
        {"step": 20, "time_s": 2.0, "d_loss": 0.1, "g_loss": 4.0, "d_real": 0.99, "d_fake": 0.01,
         "g_grad_norm": 0.01, "diversity": 0.2,
         "doctor": [{"check": "mode-collapse", "step": 20, "title": "mode collapse",
                     "why": "less <varied>", "fixes": ["use wgan-gp"]}]},
        {"step": 20, "time_s": 3.0, "fid": 12.5, "fid_floor": 1.25, "protocol": {"n": 10}},
    ]  # fmt: skip
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (tmp_path / "config.yaml").write_text("recipe: unconditional\ndescription: a test run\n")
    page = write_report(tmp_path).read_text()
    assert "Doctor events" in page and "step 20: mode collapse" in page
    assert "less &lt;varied&gt;" in page and "<li>use wgan-gp</li>" in page  # escaped
    assert "<td>fid</td><td class='num'>12.5</td><td class='num'>1.25</td>" in page
    assert page.count("data:image/png;base64") == 1  # the curves, inlined
    assert "src='http" not in page and 'src="http' not in page  # self-contained


def test_quiet_doctor_is_said(tmp_path):
    (tmp_path / "metrics.jsonl").write_text(json.dumps({"step": 5, "d_loss": 1.0}) + "\n")
    assert "found nothing to flag" in write_report(tmp_path).read_text()
