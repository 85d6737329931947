"""A synthetic case library of N cases for benchmarks: clearly synthetic (titles start with
【合成】, tag 合成), never written into cases/ and never published in the site.

Each synthetic case takes a real case of a randomly chosen category as its skeleton and
fills every section with sentences shuffled from the shipped cases of that category, so
lengths, vocabulary and the mix of categories are realistic while no two cases are equal.

    .venv/bin/python benchmarks/synth.py 1000 /tmp/lib-1000      # writes /tmp/lib-1000/cases/*.md
"""

from __future__ import annotations

import random
import re
import sys
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from search.library.cases import SECTIONS  # noqa: E402
from search.library.check import check_library  # noqa: E402

_SENT = re.compile(r"(?<=[。！？；])")


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENT.split(text.replace("\n", "")) if len(s.strip()) > 4]


def generate(n: int, out_root: Path, seed: int = 20261124) -> Path:
    rng = random.Random(seed)
    real = check_library(REPO / "cases").cases
    pools: dict[tuple[str, str], list[str]] = defaultdict(list)
    for c in real:
        for name in SECTIONS[:-1]:  # narrative sections; the agent block keeps its structure
            pools[(c.meta.category, name)] += _sentences(c.sections[name].text)
    cases_dir = out_root / "cases"
    cases_dir.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        skel = rng.choice(real)
        m = skel.meta
        cat = m.category
        body = []
        for name in SECTIONS[:-1]:
            pool = pools[(cat, name)]
            k = max(3, min(len(pool), len(_sentences(skel.sections[name].text)) + rng.randint(-2, 2)))
            sents = rng.sample(pool, min(k, len(pool)))
            if name == "预防措施":
                body.append(f"## {name}\n\n" + "\n".join(f"- {s}" for s in sents))
            else:
                mid = len(sents) // 2
                body.append(f"## {name}\n\n" + "".join(sents[:mid]) + "\n\n" + "".join(sents[mid:]))
        body.append(f"## 接听要点\n\n{skel.sections['接听要点'].text}")
        title = f"【合成】{m.title[:30]}（{i + 1}）"
        long_ones = [x for x in _sentences(skel.sections["经过"].text) if len(x) >= 15] or [m.summary]
        summary = rng.choice(long_ones)[:120]
        front = (
            f"---\nid: C{100000 + i}\ntitle: \"{title}\"\ndate: \"20{rng.randint(15, 26):02d}-{rng.randint(1, 12):02d}\"\n"
            f"category: {cat}\nlevel: {m.level}\nchannel: {m.channel}\noutcome: {m.outcome}\n"
            f"principles: {list(m.principles)}\nphrases: {list(m.phrases)}\ncustomer_type:\n"
            f"tags: [合成, {', '.join(m.tags[:3])}]\nsource: 示例\nsummary: \"{summary.replace(chr(34), '')}\"\n---\n\n"
        )
        (cases_dir / f"synthetic-{i + 1:05d}.md").write_text(front + "\n\n".join(body) + "\n", encoding="utf-8")
    return cases_dir


if __name__ == "__main__":
    n, out = int(sys.argv[1]), Path(sys.argv[2])
    d = generate(n, out)
    report = check_library(d)
    print(f"{len(report.cases)} synthetic cases in {d} ({len(report.problems)} problems)")
    for p in report.problems[:5]:
        print(p)
