"""The shared store (CASELIB_DATABASE_URL=postgresql://…): the published library and the
search log in PostgreSQL, so one writer and any number of replicas serve the same thing.
The embedded default (files, faiss, BM25, SQLite) does not use this package."""
