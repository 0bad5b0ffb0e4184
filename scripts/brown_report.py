#!/usr/bin/env python3
"""Collects the Brown runs of scripts/brown.sh (docs/results/brown/*.json) into docs/results/brown.json (the four heads
at d = 32), docs/results/brown-sweep.json (every head at every d it ran: softmax and sigsoftmax at each d, the
mixtures where the budget allowed), three SVG plots (validation perplexity per epoch of the four heads; test
perplexity and rank of log P against d, one line per head; the mixtures' ranks, near the number of contexts, are
named on the rank plot rather than drawn) and Markdown tables, which it prints and also writes between the
<!-- brown-... --> markers of docs/results.md and README.md (so the documents always show the committed JSON).
Plain Python, no packages. Run: python3 scripts/brown_report.py"""
import glob
import json
import os

root = os.path.join(os.path.dirname(__file__), "..", "docs", "results")
rows = [json.load(open(p)) for p in sorted(glob.glob(os.path.join(root, "brown", "*.json")))]
order = {"softmax": 0, "sigsoftmax": 1, "mos": 2, "moss": 3}
# The result set is seed 1; rows with other seeds (scripts/brown.sh seeds) only go into the seeds table.
extra = sorted([r for r in rows if r["config"]["seed"] != 1], key=lambda r: (r["d"], r["config"]["seed"], order[r["head"]]))
rows = [r for r in rows if r["config"]["seed"] == 1]
sweep = sorted(rows, key=lambda r: (r["d"], order[r["head"]]))
heads = [r for r in rows if r["d"] == 32]
heads.sort(key=lambda r: order[r["head"]])
json.dump(heads, open(os.path.join(root, "brown.json"), "w"), indent=1)
json.dump(sweep, open(os.path.join(root, "brown-sweep.json"), "w"), indent=1)


def minutes(r):
    w = r["wall_seconds"]
    return f"{w['train'] / 60:.1f} + {w['rank'] / 60:.1f} + {w['dynamic_eval'] / 60:.1f}"


def table(rs):
    lines = ["| head | d | parameters | valid ppl | test ppl | test ppl, dynamic eval | rank of log P (bound d + 2) | minutes (train + rank + dynamic) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rs:
        lines.append(f"| {r['head']} | {r['d']} | {r['parameters']:,} | {r['valid_ppl']:.2f} | {r['test_ppl']:.2f} | "
                     f"{r['test_ppl_dynamic']:.2f} | {r['rank']} ({r['rank_bound']}) | {minutes(r)} |")
    return "\n".join(lines)


def gains(rs, base="softmax", other="sigsoftmax"):
    """other against base (sigsoftmax against softmax, or MoSS against MoS) at each d and seed: the relative change in
    test perplexity, without and with dynamic evaluation, and each d's mean over its seeds."""
    by = {(r["head"], r["d"], r["config"]["seed"]): r for r in rs}
    lines = [f"| d | seed | bound d + 2 | {other} vs {base}, test ppl | with dynamic eval | rank: {base} / {other} |",
             "|---:|---:|---:|---:|---:|---:|"]
    pct = lambda x, y: f"{100 * (y - x) / x:+.1f} % ({y:.2f} vs {x:.2f})"
    mean = lambda xs: sum(xs) / len(xs)
    for d in sorted({r["d"] for r in rs}):
        pairs = []
        for seed in sorted({r["config"]["seed"] for r in rs if r["d"] == d}):
            a, b = by.get((base, d, seed)), by.get((other, d, seed))
            if a and b:
                pairs.append((a, b))
                lines.append(f"| {d} | {seed} | {d + 2} | {pct(a['test_ppl'], b['test_ppl'])} | "
                             f"{pct(a['test_ppl_dynamic'], b['test_ppl_dynamic'])} | {a['rank']} / {b['rank']} |")
        if len(pairs) > 1:
            # The mean perplexity of each head over the seeds, and the gain between the means.
            m = {k: [mean([p[i][k] for p in pairs]) for i in (0, 1)] for k in ("test_ppl", "test_ppl_dynamic")}
            lines.append(f"| {d} | mean of {len(pairs)} | {d + 2} | **{pct(*m['test_ppl'])}** | "
                         f"**{pct(*m['test_ppl_dynamic'])}** | |")
    return "\n".join(lines)


def splice(path, marker, text):
    """Replaces what stands between <!-- marker --> and <!-- /marker --> in path; a file without the markers is left alone."""
    if not os.path.exists(path):
        return
    doc = open(path).read()
    start, end = f"<!-- {marker} -->", f"<!-- /{marker} -->"
    if start not in doc or end not in doc:
        return
    head, rest = doc.split(start, 1)
    _, tail = rest.split(end, 1)
    open(path, "w").write(f"{head}{start}\n{text}\n{end}{tail}")


COLORS = {"softmax": "#1f77b4", "sigsoftmax": "#d62728", "mos": "#2ca02c", "moss": "#9467bd"}


def frame(w, h, pad, xlabel, ylabel, lo, hi, ticks):
    """The SVG both plots share: white page, axes, labels, x ticks [(x, text)] and five y ticks from lo to hi."""
    y_of = lambda y: h - pad - (y - lo) / (hi - lo) * (h - 2 * pad)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
           f'<rect width="{w}" height="{h}" fill="white"/>',
           f'<line x1="{pad}" y1="{h - pad}" x2="{w - pad}" y2="{h - pad}" stroke="black"/>',
           f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{h - pad}" stroke="black"/>',
           f'<text x="{w / 2}" y="{h - 15}" text-anchor="middle">{xlabel}</text>',
           f'<text x="15" y="{h / 2}" text-anchor="middle" transform="rotate(-90 15 {h / 2})">{ylabel}</text>']
    out += [f'<text x="{x:.1f}" y="{h - pad + 16}" text-anchor="middle">{t}</text>' for x, t in ticks]
    for k in range(5):
        y = lo + (hi - lo) * k / 4
        out.append(f'<text x="{pad - 6}" y="{y_of(y) + 4:.1f}" text-anchor="end">{y:.0f}</text>')
    return out, y_of


def line(points, color, dashed=False):
    """A polyline through [(x, y)] in pixels, with dots unless dashed."""
    dash = ' stroke-dasharray="6 4"' if dashed else ""
    out = ['<polyline fill="none" stroke="%s" stroke-width="2"%s points="%s"/>' % (color, dash, " ".join(f"{x:.1f},{y:.1f}" for x, y in points))]
    if not dashed:
        out += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"/>' for x, y in points]
    return out


def svg(path, key, ylabel, dashed=None, only=None, note=()):
    """One line per head of r[key] against d; with dashed, a second, dashed line per head of r[dashed]; only the heads
    in `only` when it is set, and the lines of note in gray above the plot."""
    import math
    by_head, by_head2 = {}, {}
    for r in sweep:
        if only and r["head"] not in only:
            continue
        by_head.setdefault(r["head"], []).append((r["d"], r[key]))
        if dashed:
            by_head2.setdefault(r["head"], []).append((r["d"], r[dashed]))
    if not by_head:
        return
    ds = sorted({d for pts in by_head.values() for d, _ in pts})
    ys = [y for pts in list(by_head.values()) + list(by_head2.values()) for _, y in pts]
    w, h, pad = 520, 340, 60
    x_of = lambda d: pad + (math.log2(d) - math.log2(ds[0])) / max(1e-9, math.log2(ds[-1]) - math.log2(ds[0])) * (w - 2 * pad) if len(ds) > 1 else w / 2
    lo, hi = min(ys), max(ys)
    lo, hi = (lo - 0.05 * (hi - lo + 1), hi + 0.05 * (hi - lo + 1))
    out, y_of = frame(w, h, pad, "d (nhidlast = emsize), log scale", ylabel, lo, hi, [(x_of(d), d) for d in ds])
    for i, (head, pts) in enumerate(sorted(by_head.items(), key=lambda kv: order[kv[0]])):
        c = COLORS[head]
        out += line([(x_of(d), y_of(y)) for d, y in sorted(pts)], c)
        out.append(f'<text x="{w - pad - 80}" y="{pad + 16 * i}" fill="{c}">{head}</text>')
        if head in by_head2:
            out += line([(x_of(d), y_of(y)) for d, y in sorted(by_head2[head])], c, dashed=True)
    if dashed:
        out.append(f'<text x="{w - pad - 80}" y="{pad + 16 * len(by_head)}" fill="gray">dashed: {dashed.replace("test_ppl_", "")}</text>')
    if key == "rank":
        pts = [(d, d + 2) for d in ds]
        out.append('<polyline fill="none" stroke="gray" stroke-dasharray="4 3" points="%s"/>' % " ".join(f"{x_of(d):.1f},{y_of(y):.1f}" for d, y in pts))
        out.append(f'<text x="{w - pad - 80}" y="{pad + 16 * len(by_head)}" fill="gray">d + 2</text>')
    for i, text in enumerate(note):
        out.append(f'<text x="{w - pad}" y="{pad - 16 * (len(note) - i) - 6}" fill="gray" text-anchor="end">{text}</text>')
    out.append("</svg>")
    open(path, "w").write("\n".join(out))


def epochs_svg(path, rs):
    """Validation perplexity per epoch, one line per head: the four heads' training curves at d = 32."""
    if not rs:
        return
    w, h, pad = 520, 340, 60
    n = max(len(r["valid_ppl_by_epoch"]) for r in rs)
    ys = [y for r in rs for y in r["valid_ppl_by_epoch"]]
    lo, hi = min(ys), max(ys)
    lo, hi = lo - 0.05 * (hi - lo + 1), hi + 0.05 * (hi - lo + 1)
    x_of = lambda e: pad + (e - 1) / max(1, n - 1) * (w - 2 * pad)
    out, y_of = frame(w, h, pad, "epoch", "validation perplexity (d = 32)", lo, hi, [(x_of(e), e) for e in range(1, n + 1)])
    for i, r in enumerate(rs):
        c = COLORS[r["head"]]
        out += line([(x_of(e), y_of(y)) for e, y in enumerate(r["valid_ppl_by_epoch"], start=1)], c)
        out.append(f'<text x="{w - pad - 80}" y="{pad + 16 * i}" fill="{c}">{r["head"]}</text>')
    out.append("</svg>")
    open(path, "w").write("\n".join(out))


epochs_svg(os.path.join(root, "brown-heads.svg"), heads)
svg(os.path.join(root, "brown-sweep-ppl.svg"), "test_ppl", "test perplexity (batch size 1)", dashed="test_ppl_dynamic")
mixture_ranks = sorted((r["d"], r["head"], r["rank"]) for r in sweep if r["config"]["experts"] > 1)
svg(os.path.join(root, "brown-sweep-rank.svg"), "rank", "rank of log P over 2,000 contexts", only={"softmax", "sigsoftmax"},
    note=[f"{h} (off this scale): " + ", ".join(f"{k:,} at d = {d}" for d, hh, k in mixture_ranks if hh == h)
          for h in sorted({h for _, h, _ in mixture_ranks}, key=order.get)])


def seeds_table(base, other, target):
    """other against base at every d where one of them ran with another seed, beside the seed-1 pair."""
    ds = {r["d"] for r in extra if r["head"] in (base, other)}
    if not ds:
        return f"(none yet: `scripts/brown.sh {target}` runs them)"
    return gains([r for r in extra + sweep if r["d"] in ds], base, other)


tables = {"brown-heads": table(heads), "brown-table": table(sweep), "brown-gains": gains(sweep),
          "brown-seeds": seeds_table("softmax", "sigsoftmax", "seeds"),
          # MoSS against MoS where a mixture ran with another seed (scripts/brown.sh mixture-seeds).
          "brown-mixture-seeds": seeds_table("mos", "moss", "mixture-seeds")}
docs = os.path.join(root, "..")
for marker, text in tables.items():
    splice(os.path.join(docs, "results.md"), marker, text)
    splice(os.path.join(docs, "..", "README.md"), marker, text)
print("Four heads at d = 32:\n")
print(tables["brown-heads"])
print("\nThe sweep:\n")
print(tables["brown-table"])
print("\nSigsoftmax against softmax:\n")
print(tables["brown-gains"])
print("\nOther seeds:\n")
print(tables["brown-seeds"])
print("\nMoSS against MoS, other seeds:\n")
print(tables["brown-mixture-seeds"])
