"""Text normalisation shared by indexing and querying, so both sides agree:
Traditional → Simplified (OpenCC t2s), NFKC (full-width → half-width), lower case;
jieba tokens for BM25 and highlighting, with a domain dictionary and stop words removed.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from search.reference import DATA_DIR

USER_DICT = DATA_DIR / "jieba_user.txt"

# Function words and fillers that carry no meaning for matching complaints.
STOPWORDS = frozenset(
    "的 了 是 在 我 你 他 她 它 我们 你们 他们 您 这 那 这个 那个 一个 就 也 都 还 又 和 与 及 或 而 但 吗 呢 吧 啊 呀 哦 嗯 "
    "很 太 更 最 被 把 给 让 对 从 到 为 为什么 怎么 怎么办 什么 哪里 有 没 没有 不 要 会 能 可以 说 问 想 去 来 上 下 里 "
    "个 些 啦 嘛 之 其 所 以 着 过 得 地 等 如果 因为 所以 然后 已经 现在 一直 一下 还是 就是 这样 那样 业主 物业 小区".split()
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


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = _converter().convert(text)
    return re.sub(r"\s+", " ", text).strip().lower()


_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]{2,}")


def tokenize(text: str) -> list[str]:
    """BM25 tokens: jieba search-mode words (no stop words) plus character bigrams of every
    Chinese run. Bigrams make matching robust to segmentation differences between a short
    query and the case text (氨气味道 vs 氨/气味), the usual remedy in Chinese retrieval."""
    norm = normalize(text)
    words = [w for w in _jieba().lcut_for_search(norm) if w.strip() and w not in STOPWORDS and not _PUNCT.match(w)]
    bigrams = [run[i : i + 2] for run in _CJK_RUN.findall(norm) for i in range(len(run) - 1)]
    return words + bigrams


def highlight_terms(query: str) -> list[str]:
    """Terms to mark in a snippet: query words of two or more characters, longest first."""
    terms = {w for w in _jieba().lcut(normalize(query)) if len(w) >= 2 and w not in STOPWORDS and not _PUNCT.match(w)}
    return sorted(terms, key=len, reverse=True)
