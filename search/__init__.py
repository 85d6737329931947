"""caselib：物业客服案例库。

Data flows one way: cases/*.md → cases.py (parse) → check.py (schema, refs, privacy)
→ index.py (chunks, vectors, BM25) → retrieval.py (hybrid search) → faces (cli.py, api.py,
mkdocs hooks). Importing this package is cheap: nothing heavy is imported at module level.
"""

__version__ = "0.1.0"
