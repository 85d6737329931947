"""Text normalisation shared by indexing and querying, so both sides agree:
Traditional → Simplified (OpenCC t2s), NFKC (full-width → half-width), lower case;
jieba tokens for BM25 and highlighting, with a domain dictionary and stop words removed.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from search.library.reference import DATA_DIR

USER_DICT = DATA_DIR / "jieba_user.txt"
# Recorded in the index manifest: change it whenever tokenize() changes, so the next
# `caselib index` rebuilds the BM25 part (vectors are reused).
TOKENIZER_VERSION = "jieba-content-bigrams-2"

# Function words and the fillers of spoken complaints ("你们到底管不管"): they carry no
# meaning for matching and, as bigrams, would match every case.
STOPWORDS = frozenset(
    "的 了 是 在 我 你 他 她 它 我们 你们 他们 您 这 那 这个 那个 这些 那些 一个 一些 "
    "就 也 都 还 又 才 再 和 与 及 或 而 但 "
    "吗 呢 吧 啊 呀 哦 哈 喂 啦 嘛 很 太 更 最 被 把 给 让 对 从 到 为 着 过 得 地 之 其 所 以 等 "
    "为什么 凭什么 干什么 怎么 怎么办 什么 哪里 这里 那里 这样 那样 这么 那么 "
    "有 没 没有 不 要 会 能 可以 说 问 想 去 来 上 下 里 个 些 "
    "如果 因为 所以 然后 已经 现在 刚才 今天 昨天 明天 一直 一下 一点 还是 可是 但是 就是 不是 是不是 "
    "有没有 能不能 行不行 好不好 管不管 到底 请问 自己 大家 每次 总是 老是 看看 说说 告诉 知道 觉得 "
    "业主 物业 小区".split()
)
_PUNCT = re.compile(r"^[\W_]+$", re.UNICODE)


@lru_cache(maxsize=1)
def _converter():
    import opencc

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=1)
def _jieba():
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.load_userdict(str(USER_DICT))
    return jieba


def t2s(text: str) -> str:
    """Traditional → Simplified (OpenCC t2s) and nothing else; 1:1 per character for CJK."""
    return _converter().convert(text) if text else text


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = t2s(text)
    return re.sub(r"\s+", " ", text).strip().lower()


_CJK = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff]+$")


def tokenize(text: str) -> list[str]:
    """BM25 tokens: jieba search-mode words without stop words, plus character bigrams of
    each run of adjacent Chinese content words. The bigrams make matching robust to
    segmentation differences between a short query and the case text (氨气味道 vs 氨/气味);
    building them only from content words keeps fillers (你们到底…) from matching everything."""
    norm = normalize(text)
    jb = _jieba()
    words = [w for w in jb.lcut_for_search(norm) if w.strip() and w not in STOPWORDS and not _PUNCT.match(w)]
    runs, run = [], ""
    for w in jb.lcut(norm):
        if w in STOPWORDS or not _CJK.match(w):
            if run:
                runs.append(run)
            run = ""
        else:
            run += w
    if run:
        runs.append(run)
    return words + [r[i : i + 2] for r in runs for i in range(len(r) - 1)]


def highlight_terms(query: str) -> list[str]:
    """Terms to mark in a snippet: query words of two or more characters, longest first."""
    terms = {w for w in _jieba().lcut(normalize(query)) if len(w) >= 2 and w not in STOPWORDS and not _PUNCT.match(w)}
    return sorted(terms, key=len, reverse=True)
