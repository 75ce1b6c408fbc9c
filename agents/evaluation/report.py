"""The evaluation report: Markdown, a self-contained HTML page, and JSON, written atomically.

The report holds no clock time and no path that changes between runs, only what the
stored answers give, so a rerun (a resumed one included) writes the same bytes.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from pathlib import Path

from lecture.runtime.safe_fs import safe_dir, write_bytes_atomic

from .answers import AES_DIMENSIONS, AES_MAX, AES_TITLES
from .bank import LETTERS
from .results import STAGE_NAMES, STAGES, Results, TopicResult

SUMMARY_ROWS = (("1", "Stage 1: baseline (no video)"), ("2", "Stage 2: unlearned (no video)"),
                ("3", "Stage 3: unlearned + video frames"),
                ("3t", "Stage 3: unlearned + frames + transcript"),
                ("gain", "TeachQuiz gain (stage 3 - stage 2), frames"),
                ("gain_t", "TeachQuiz gain (stage 3 - stage 2), frames + transcript"))


def _num(value: float | None, digits: int = 1, signed: bool = False) -> str:
    if value is None:
        return "n/a"
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def _ci(stat: dict, signed: bool = False) -> str:
    ci = stat.get("ci")
    return "n/a" if not ci else f"[{_num(ci[0], 1, signed)}, {_num(ci[1], 1, signed)}]"


def _held(value: bool | None) -> str:
    return "n/a" if value is None else ("yes" if value else "NO")


def _findings(t: TopicResult) -> str:
    f = t.findings
    if not f:
        return "n/a"
    if f.get("per_minute") is None:
        return "n/a"
    return f"{f['per_minute']:.2f} ({f['count']})"


def _cost(r: Results, u: dict) -> str:
    if not r.prices:
        return "-"
    return f"${(u['prompt_tokens'] * r.prices[0] + u['completion_tokens'] * r.prices[1]) / 1e6:.4f}"


def settings_lines(r: Results) -> list[str]:
    s = r.settings
    debias = (f"on: {s.permutations} seeded permutations of the options per question (seed {s.seed}), "
              "scored as their mean" if s.debias else "off: options in the published order")
    return [
        f"Model: `{r.model}`; prompt version `{r.prompt_version}`",
        f"Debiasing {debias}",
        f"Excluded questions: {r.excluded_total} of the evaluated topics' questions "
        f"(list: {r.exclude_source})",
        f"Topics: {len(r.topics)} ({len(r.missing_videos)} without a video)",
        "Answers read strictly (JSON schema, or one `ANSWER = X` line); a malformed answer is asked again "
        "once, then counted wrong",
    ]


# ------------------------------------------------------------------ rows shared by both formats
# `esc` makes a text cell safe for the format: str for Markdown (its table escapes "|"),
# html.escape for HTML; numbers need none.


def _summary_rows(r: Results, esc: Callable[[str], str]) -> list[list[str]]:
    rows = []
    for key, name in SUMMARY_ROWS:
        stat = r.summary.get(key, {})
        signed = key.startswith("gain")
        rows.append([esc(name), _num(stat.get("value"), 1, signed), _ci(stat, signed)])
    return rows


def _letter_rows(r: Results, esc: Callable[[str], str]) -> list[list[str]]:
    rows = [[esc(STAGE_NAMES[s]), *[str(r.letters[s][k]) for k in (*LETTERS, "none", "malformed")]]
            for s in STAGES if sum(r.letters[s].values())]
    rows.append(["Correct letter as presented", *[str(r.correct_letters.get(k, 0)) for k in LETTERS],
                 "-", "-"])
    rows.append(["Correct letter in the published bank", *[str(r.bank_letters.get(k, 0)) for k in LETTERS],
                 "-", "-"])
    return rows


def _aes_dimension_rows(r: Results, esc: Callable[[str], str]) -> list[list[str]]:
    rows = [[esc(AES_TITLES[d]), _num(r.aes_summary[d]["value"]), _ci(r.aes_summary[d])]
            for d in AES_DIMENSIONS]
    rows.append(["Total", _num(r.aes_summary["total"]["value"]), _ci(r.aes_summary["total"])])
    return rows


def _aes_scored(r: Results) -> list[tuple[TopicResult, dict]]:
    """The topics with valid aesthetic scores, and their scores."""
    return [(t, t.aes) for t in r.topics if t.aes and t.aes.get("status") == "ok"]


def _usage_rows(r: Results, esc: Callable[[str], str]) -> list[list[str]]:
    rows = []
    total = {"calls": 0, "requests": 0, "images": 0, "prompt_tokens": 0, "completion_tokens": 0,
             "seconds": 0.0}
    for stage, u in r.usage.items():
        rows.append([esc(STAGE_NAMES[stage]), str(u["calls"]), str(u["requests"]), str(u["images"]),
                     f"{u['prompt_tokens']:,}", f"{u['completion_tokens']:,}", f"{u['seconds']:.1f}",
                     _cost(r, u)])
        for k in total:
            total[k] += u[k]
    rows.append(["Total", str(total["calls"]), str(total["requests"]), str(total["images"]),
                 f"{total['prompt_tokens']:,}", f"{total['completion_tokens']:,}", f"{total['seconds']:.1f}",
                 _cost(r, total)])
    return rows


BASELINES = ("Baselines without a model: choose the longest option {asked}% on the questions asked "
             "({bank}% on the whole bank; ties count 1/k); random guess 25.0%.")
USAGE_HEADER = ["Stage", "Answers", "Requests", "Images", "Prompt tokens", "Completion tokens",
                "Model time (s)", "Cost"]
TOPIC_HEADER = ["Topic", "Video", "Frames", "Questions", "S1", "S2", "S3", "S3+T", "Gain", "Gain+T",
                "Held", "AES", "Findings/min"]


# ------------------------------------------------------------------ Markdown


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    def clean(cell: str) -> str:
        return str(cell).replace("|", "\\|").replace("\n", " ")
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(clean(c) for c in row) + " |" for row in rows]
    return out


def to_markdown(r: Results, title: str = "Lecture evaluation") -> str:
    lines = [f"# {title}", ""]
    lines += [f"- {x}" for x in settings_lines(r)]
    if r.missing:
        lines += ["", f"**Incomplete:** {r.missing} answer(s) missing after server failures "
                      "(rerun to ask them; they count as wrong here)."]
    if r.malformed:
        lines += ["", f"**{r.malformed} malformed answer(s)** (after one retry): counted wrong, "
                      "listed below."]
    lines += _md_teachquiz(r) + _md_topics(r)
    if r.settings.aes:
        lines += _md_aesthetics(r)
    lines += ["", "## Usage (stored answers)", ""]
    lines += _md_table(USAGE_HEADER, _usage_rows(r, str))
    malformed = [(t, m) for t in r.topics for m in t.malformed]
    if malformed:
        lines += ["", "## Malformed answers (counted wrong)", ""]
        rows = [[m["question"], STAGE_NAMES.get(m["stage"], m["stage"]), m["order"], m["problem"] or "",
                 " / ".join(x[:80] for x in m["replies"])] for t, m in malformed]
        lines += _md_table(["Question", "Stage", "Order", "Problem", "Replies"], rows)
    notes = [(t, n) for t in r.topics for n in t.notes]
    if notes:
        lines += ["", "## Notes", ""] + [f"- {t.video}: {n}" for t, n in notes]
    return "\n".join(lines) + "\n"


def _md_teachquiz(r: Results) -> list[str]:
    """The overall stage scores, the baselines and the answer letters."""
    lines = ["", "## TeachQuiz", ""]
    rows = _summary_rows(r, str)
    held = r.summary["held"]
    rows.append(["Unlearning held (stage 2 <= stage 1)", _held(held["value"]),
                 f"{held['topics_held']} of {held['topics']} topics"])
    lines += _md_table(["Measure", "Score (%)", "95% CI"], rows)
    lines += ["", BASELINES.format(asked=_num(r.longest_baseline), bank=_num(r.longest_baseline_bank))]
    lines += ["", "### Answer letters", ""]
    lines += _md_table(["", *LETTERS, "insufficient", "malformed"], _letter_rows(r, str))
    return lines


def _md_topics(r: Results) -> list[str]:
    rows = []
    for t in r.topics:
        if t.kind is None:
            rows.append([t.topic, "(no video)", *["-"] * 11])
            continue
        aes = t.aes or {}
        rows.append([t.topic, t.video, f"{t.frames}{' + T' if t.transcript else ''}",
                     f"{t.questions}x{t.orders}",
                     _num(t.scores.get("1")), _num(t.scores.get("2")), _num(t.scores.get("3")),
                     _num(t.scores.get("3t")), _num(t.gain, 1, True), _num(t.gain_transcript, 1, True),
                     _held(t.unlearning_held), str(aes.get("total", aes.get("status", "-"))), _findings(t)])
    return ["", "## Per topic", "", *_md_table(TOPIC_HEADER, rows)]


def _md_aesthetics(r: Results) -> list[str]:
    """The mean of each dimension, each video's scores, and the model's feedback."""
    lines = ["", "## Aesthetics (0-20 each, total 0-100)", ""]
    lines += _md_table(["Dimension", "Mean", "95% CI"], _aes_dimension_rows(r, str))
    lines += [""]
    scored = _aes_scored(r)
    rows = [[t.video, *[str(aes["scores"][d]["score"]) for d in AES_DIMENSIONS], str(aes["total"])]
            for t, aes in scored]
    if rows:
        lines += _md_table(["Video", *[AES_TITLES[d] for d in AES_DIMENSIONS], "Total"], rows)
    for t, aes in scored:
        scores = aes["scores"]
        lines += ["", f"**{t.video}**: " + "; ".join(f"{AES_TITLES[d]}: {scores[d]['feedback']}"
                                                 for d in AES_DIMENSIONS if scores[d]["feedback"])]
    return lines


# ------------------------------------------------------------------ HTML

CSS = """body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222;padding:0 1em}
table{border-collapse:collapse;margin:.6em 0}th,td{border:1px solid #ccc;padding:.25em .5em;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f3f3f3}.bad{color:#b00;font-weight:bold}
.note{color:#555}code{background:#f3f3f3;padding:0 .2em}svg text{font:12px system-ui,sans-serif}"""
COLORS = {"1": "#8c8c8c", "2": "#d62728", "3": "#1f77b4", "3t": "#2ca02c"}


def _esc(x: object) -> str:
    return html.escape(str(x))


def _html_table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def stage_chart(r: Results) -> str:
    """Bars of the overall stage scores (0-100) with their 95% intervals."""
    stages = [s for s in STAGES if r.summary.get(s, {}).get("value") is not None]
    width, height, left, bottom, bar = 120 + 110 * len(stages), 260, 50, 40, 60
    scale = (height - bottom - 20) / 100
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="TeachQuiz stage scores">']
    for tick in range(0, 101, 20):
        y = height - bottom - tick * scale
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" stroke="#eee"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{tick}</text>')
    for i, s in enumerate(stages):
        value = r.summary[s]["value"]
        x = left + 30 + i * 110
        y = height - bottom - value * scale
        parts.append(f'<rect x="{x}" y="{y:.1f}" width="{bar}" height="{value * scale:.1f}" '
                     f'fill="{COLORS[s]}">'
                     f'<title>{_esc(STAGE_NAMES[s])}: {value:.1f}%</title></rect>')
        ci = r.summary[s].get("ci")
        top = min(y, height - bottom - ci[1] * scale) if ci else y
        parts.append(f'<text x="{x + bar / 2}" y="{top - 6:.1f}" text-anchor="middle">{value:.1f}</text>')
        if ci:
            y0, y1 = height - bottom - ci[0] * scale, height - bottom - ci[1] * scale
            cx = x + bar / 2
            parts.append(f'<line x1="{cx}" y1="{y0:.1f}" x2="{cx}" y2="{y1:.1f}" stroke="#000"/>'
                         f'<line x1="{cx - 8}" y1="{y0:.1f}" x2="{cx + 8}" y2="{y0:.1f}" stroke="#000"/>'
                         f'<line x1="{cx - 8}" y1="{y1:.1f}" x2="{cx + 8}" y2="{y1:.1f}" stroke="#000"/>')
        label = {"1": "1 baseline", "2": "2 unlearned", "3": "3 video", "3t": "3 + transcript"}[s]
        parts.append(f'<text x="{x + bar / 2}" y="{height - bottom + 18}" '
                     f'text-anchor="middle">{label}</text>')
    parts.append("</svg>")
    return "".join(parts)


def topic_chart(r: Results) -> str:
    """One row per topic: its stage 1, 2 and 3 scores as horizontal bars."""
    rows = [t for t in r.topics if t.kind is not None]
    stages = ["1", "2", "3"] + (["3t"] if any(t.scores.get("3t") is not None for t in rows) else [])
    bar_h, gap, label_w, plot_w = 7, 8, 330, 500
    row_h = bar_h * len(stages) + gap
    height = 30 + row_h * len(rows)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + plot_w + 60}" height="{height}" '
             f'role="img" aria-label="stage scores per topic">']
    for tick in range(0, 101, 25):
        x = label_w + tick * plot_w / 100
        parts.append(f'<line x1="{x}" y1="18" x2="{x}" y2="{height}" stroke="#eee"/>'
                     f'<text x="{x}" y="12" text-anchor="middle">{tick}</text>')
    for i, t in enumerate(rows):
        y = 22 + i * row_h
        name = t.topic if len(t.topic) <= 48 else t.topic[:46] + "…"
        parts.append(f'<text x="{label_w - 6}" y="{y + row_h / 2:.1f}" text-anchor="end">{_esc(name)}</text>')
        for j, s in enumerate(stages):
            v = t.scores.get(s)
            if v is None:
                continue
            parts.append(f'<rect x="{label_w}" y="{y + j * bar_h}" width="{v * plot_w / 100:.1f}" '
                         f'height="{bar_h - 1}" fill="{COLORS[s]}"><title>{_esc(t.topic)} - '
                         f'{_esc(STAGE_NAMES[s])}: {v:.1f}%</title></rect>')
    parts.append("</svg>")
    legend = " ".join(f'<span style="color:{COLORS[s]}">&#9632;</span> {_esc(STAGE_NAMES[s])}'
                      for s in stages)
    return f"<p>{legend}</p>" + "".join(parts)


def to_html(r: Results, title: str = "Lecture evaluation") -> str:
    out = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{_esc(title)}</title>"
           f"<style>{CSS}</style></head><body><h1>{_esc(title)}</h1><ul>"]
    out += [f"<li>{_esc(x).replace('`', '')}</li>" for x in settings_lines(r)]
    out.append("</ul>")
    if r.missing:
        out.append(f"<p class='bad'>Incomplete: {r.missing} answer(s) missing after server failures "
                   "(rerun to ask them; they count as wrong here).</p>")
    if r.malformed:
        out.append(f"<p class='bad'>{r.malformed} malformed answer(s) (after one retry): counted wrong, "
                   "listed below.</p>")
    out += _html_teachquiz(r) + _html_topics(r)
    if r.settings.aes:
        out += _html_aesthetics(r)
    out.append("<h2>Usage (stored answers)</h2>")
    out.append(_html_table(USAGE_HEADER, _usage_rows(r, _esc)))
    malformed = [m for t in r.topics for m in t.malformed]
    if malformed:
        out.append("<h2>Malformed answers (counted wrong)</h2>")
        out.append(_html_table(["Question", "Stage", "Order", "Problem", "Replies"],
                               [[_esc(m["question"]), _esc(STAGE_NAMES.get(m["stage"], m["stage"])),
                                 _esc(m["order"]), _esc(m["problem"] or ""),
                                 "<br>".join(_esc(x[:200]) for x in m["replies"])]
                                for m in malformed]))
    notes = [(t, n) for t in r.topics for n in t.notes]
    if notes:
        out.append("<h2>Notes</h2><ul>" + "".join(f"<li>{_esc(t.video)}: {_esc(n)}</li>" for t, n in notes)
                   + "</ul>")
    out.append("</body></html>\n")
    return "".join(out)


def _html_teachquiz(r: Results) -> list[str]:
    """The stage chart, the overall scores, the baselines and the answer letters."""
    rows = _summary_rows(r, _esc)
    held = r.summary["held"]
    cls = "" if held["value"] is not False else " class='bad'"
    rows.append(["Unlearning held (stage 2 &le; stage 1)", f"<span{cls}>{_held(held['value'])}</span>",
                 f"{held['topics_held']} of {held['topics']} topics"])
    baselines = BASELINES.format(asked=_num(r.longest_baseline), bank=_num(r.longest_baseline_bank))
    return ["<h2>TeachQuiz</h2>" + stage_chart(r),
            _html_table(["Measure", "Score (%)", "95% CI"], rows),
            f"<p class='note'>{baselines}</p>",
            "<h3>Answer letters</h3>",
            _html_table(["", *LETTERS, "insufficient", "malformed"], _letter_rows(r, _esc))]


def _html_topics(r: Results) -> list[str]:
    rows = []
    for t in r.topics:
        if t.kind is None:
            rows.append([_esc(t.topic), "(no video)", *["-"] * 11])
            continue
        aes = t.aes or {}
        held_cell = _held(t.unlearning_held)
        rows.append([_esc(t.topic), _esc(t.video), f"{t.frames}{' + T' if t.transcript else ''}",
                     f"{t.questions}&times;{t.orders}", _num(t.scores.get("1")), _num(t.scores.get("2")),
                     _num(t.scores.get("3")), _num(t.scores.get("3t")), _num(t.gain, 1, True),
                     _num(t.gain_transcript, 1, True),
                     f"<span class='bad'>{held_cell}</span>" if t.unlearning_held is False else held_cell,
                     _esc(aes.get("total", aes.get("status", "-"))), _esc(_findings(t))])
    return ["<h2>Per topic</h2>" + topic_chart(r), _html_table(TOPIC_HEADER, rows)]


def _html_aesthetics(r: Results) -> list[str]:
    """The mean of each dimension, and each video's scores with the feedback on hover."""
    out = ["<h2>Aesthetics (0&ndash;20 each, total 0&ndash;100)</h2>",
           _html_table(["Dimension", "Mean", "95% CI"], _aes_dimension_rows(r, _esc))]
    rows = []
    for t, aes in _aes_scored(r):
        sc = aes["scores"]
        cells = [f"<span title='{_esc(sc[d]['feedback'])}'>{sc[d]['score']}</span>" for d in AES_DIMENSIONS]
        rows.append([_esc(t.video), *cells, str(aes["total"])])
    if rows:
        out.append(_html_table(["Video", *[AES_TITLES[d] for d in AES_DIMENSIONS], "Total"], rows))
        out.append(f"<p class='note'>Each score is out of {AES_MAX}; "
                   "hover a score for the model's feedback.</p>")
    return out


def to_json(r: Results) -> dict:
    return {
        "model": r.model, "prompt_version": r.prompt_version,
        "settings": {k: getattr(r.settings, k) for k in r.settings.__dataclass_fields__},
        "exclude": r.exclude_source, "excluded": r.excluded_total,
        "summary": r.summary, "letters": r.letters, "correct_letters": r.correct_letters,
        "bank_letters": r.bank_letters, "longest_option_baseline": r.longest_baseline,
        "longest_option_baseline_bank": r.longest_baseline_bank, "usage": r.usage, "aes": r.aes_summary,
        "missing": r.missing, "malformed": r.malformed, "missing_videos": r.missing_videos,
        "topics": [{"topic": t.topic, "video": t.video, "kind": t.kind, "frames": t.frames,
                    "transcript": t.transcript, "questions": t.questions, "excluded": t.excluded,
                    "orders": t.orders, "scores": t.scores, "gain": t.gain,
                    "gain_transcript": t.gain_transcript,
                    "unlearning_held": t.unlearning_held, "per_question": t.per_question, "aes": t.aes,
                    "findings": t.findings, "malformed": t.malformed, "missing": t.missing, "notes": t.notes}
                   for t in r.topics],
    }


def write_reports(r: Results, folder: str | Path, title: str = "Lecture evaluation") -> dict[str, Path]:
    """report.md, report.html and report.json in `folder`, each replaced atomically: a new
    file renamed over the old name, so a link planted there (an output folder that came with
    a repository) is replaced, never written through. A link on the way to `folder` raises
    UnsafePathError."""
    folder = Path(folder)
    safe_dir(folder)
    paths = {"md": folder / "report.md", "html": folder / "report.html", "json": folder / "report.json"}
    write_bytes_atomic(paths["md"], to_markdown(r, title).encode("utf-8"))
    write_bytes_atomic(paths["html"], to_html(r, title).encode("utf-8"))
    write_bytes_atomic(paths["json"], (json.dumps(to_json(r), indent=1, ensure_ascii=False, sort_keys=True)
                                       + "\n").encode("utf-8"))
    return paths
