"""The running search service: one inference worker, the current Searcher, the search
log, and hot reload of a rebuilt index without a restart.

The Searcher is immutable; reload builds a new one beside it and replaces the reference
in one assignment, so a request in flight finishes on the old index and the next one sees
the new index: no moment of errors or empty results. A watcher thread polls the index
link (cheap: one readlink per second) and reloads when it points somewhere new.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from search import pipeline
from search.errors import CaseError, CaselibError, IndexMissing
from search.library.check import cases_signature
from search.library.reference import load_reference
from search.retrieval.searcher import SearchResult
from search.server.inference import REPLY, InferenceWorker
from search.server.searchlog import NullLog, open_log
from search.settings import Settings

log = logging.getLogger("caselib.service")
WATCHER_JOIN_S = 3.0  # close() waits this long for an update in progress (a mkdocs run) to end
MAX_RETRY_S = 60.0  # a failing automatic update is retried, backing off to once a minute


class SearchService:
    """Owns the inference worker (one thread, the only one that runs the model), the
    current Searcher, the search log and the watcher thread; ``close()`` stops both
    threads. Everything that needs vectors goes through ``self.inference``."""

    def __init__(self, settings: Settings, encoder=None, clause_encoder=None):
        self.settings = settings
        # once per process. Few intra-op threads: oversubscribed OpenMP threads spin against
        # each other (with another busy process on the 2 cores a query took 700-800 ms on
        # 2 threads, 19 ms on 1)
        self.inference = InferenceWorker(encoder or pipeline.load_encoder(settings, threads=settings.server_threads))
        self.encoder = self.inference  # what the Searcher encodes queries with (query priority)
        # a long text's clauses: the int8 model on a worker of its own, or the same worker
        # (given an encoder and no clause encoder: that encoder does both)
        self.clauses = self.inference
        try:
            if clause_encoder is None and encoder is None:
                clause_encoder = pipeline.load_clause_encoder(settings, threads=settings.server_threads)
        except BaseException:
            self.inference.close()
            raise
        if clause_encoder is not None:
            self.clauses = InferenceWorker(clause_encoder)
        self.searcher = None
        self.loaded_from: Path | None = None
        self._reload_lock = threading.Lock()
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self._cases_seen: tuple | None = None
        self._site_stale = False  # the index changed but the site was not rebuilt yet
        self.problems: list[str] = []  # from the last automatic update, shown by /healthz
        self._check_memo: dict = {}  # parsed cases by file signature: a save re-parses one file, not all
        self.busy = False  # the watcher is reading or indexing cases (shown by /healthz)
        self.log = NullLog()
        self.shared = None  # the shared database (PostgreSQL): library versions and the search log
        self.shared_version: int | None = None
        try:
            if settings.is_shared:
                from search.authoring.db import open_database
                from search.shared import library

                self.shared = open_database(settings.db_url)
                if settings.replica:
                    self.shared_version = library.sync(self.shared, settings)
            self.log = open_log(settings, self.shared)
            from search.replies.checker import ReplyChecker

            # embeds the phrase variants once; its checks run behind agents' queries
            self.reply_checker = ReplyChecker(encoder=self.inference.lane(REPLY))
            self.reload()
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ index lifecycle

    def current_target(self) -> Path | None:
        link = self.settings.index_path
        return link.resolve() if link.exists() else None

    def reload(self, built=None) -> bool:
        """Load the index the link points to now, if it is new. Returns True if swapped.
        ``built``: that index already in memory (this process just wrote it), so it is
        not read back. A broken new index is logged and the current one keeps serving."""
        with self._reload_lock:
            target = self.current_target()
            if target is None or target == self.loaded_from:
                return False
            try:
                if built is not None and built.path.resolve() == target:
                    from search.retrieval.searcher import Searcher

                    searcher = Searcher(built, self.encoder, clause_encoder=self.clauses)
                else:
                    searcher = pipeline.open_searcher(self.settings, encoder=self.encoder, dense=self._dense_factory(),
                                                      clause_encoder=self.clauses)
            except IndexMissing:
                return False
            except CaselibError as e:
                log.error("新索引无法加载，继续使用当前索引：%s", e)
                return False
            searcher.search("暖气不热", k=1)  # warm up (jieba, OpenCC, first inference) before serving
            self.searcher, self.loaded_from = searcher, target  # the atomic swap
            # the index's objects live until the next swap: keep the cyclic GC from
            # traversing them on every full collection (21 ms each at 10,000 cases, measured;
            # 0 once frozen). Unfreeze first so the previous index's cycles can be collected.
            import gc

            gc.unfreeze()
            gc.collect()
            gc.freeze()
            log.info("已加载索引 %s（%d 个案例）", target.name, searcher.n_cases)
            return True

    def _dense_factory(self):
        """pgvector on a replica: PostgreSQL's HNSW index answers the dense side."""
        if self.shared is None or self.settings.vector_search != "pgvector" or not self.settings.replica:
            return None
        from search.shared.vectors import PgVectorDense

        return lambda index: PgVectorDense(self.shared, index)

    def _cases_signature(self) -> tuple:
        return cases_signature(self.settings.cases_dir)

    def update_from_cases(self) -> bool:
        """A trainer saved a case: check, re-embed what changed with the model this process
        already holds (no reload: seconds, not a cold start), swap the index in, then rebuild
        the site. Invalid cases are reported and the current index keeps serving. Any other
        failure (the encoder, the disk) is raised: the watcher retries the save."""
        result = self.update_index()
        if result is not None and result.changed:
            self._site_stale = True
            self._publish()  # replicas search the new case now, before the site is rebuilt
        if self._site_stale:
            try:
                pipeline.site(self.settings)
                self._publish()  # and serve its page once the site is
            except CaselibError as e:  # mkdocs refused the content: retried at the next save
                log.error("站点未更新（当前站点继续服务）：%s", e)
            self._site_stale = False
        return bool(result and result.changed)

    def _publish(self) -> None:
        """The writer announces what it now serves to the replicas (shared store only)."""
        if self.shared is not None and not self.settings.replica:
            from search.shared import library

            self.shared_version = library.publish(self.shared, self.settings)

    def update_index(self):
        """The searchable half of update_from_cases: check, re-embed (through the inference
        worker, at passage priority, in small batches behind agents' queries), swap in.
        Returns the BuildResult, or None when a case is invalid (listed in self.problems)."""
        try:
            current = self.searcher.index if self.searcher is not None else None
            result = pipeline.index(self.settings, encoder=self.inference, progress=False,
                                    memo=self._check_memo, previous=current)
        except CaseError as e:
            self.problems = [str(p) for p in e.problems]
            log.error("案例有问题，索引未更新（当前索引继续服务）：\n%s", "\n".join(self.problems))
            return None
        self.problems = []
        self.reload(built=result.index)
        return result

    def watch(self, interval: float = 1.0) -> None:
        """Start the watcher thread (once): it polls the index link and, with auto_index,
        cases/. A save is marked as seen only once its update went through; a failed update
        is retried, backing off from ``interval`` to MAX_RETRY_S."""
        if self._watcher is not None:
            return
        self._cases_seen = self._cases_signature()
        target = self._watch_replica if self.settings.replica else self._watch
        self._watcher = threading.Thread(target=target, args=(interval,), name="caselib-index-watcher",
                                         daemon=True)
        self._watcher.start()

    def _watch(self, interval: float) -> None:
        if self.shared is not None:  # the writer: replicas get what this process serves
            try:
                from search.shared import library

                if library.latest(self.shared) is None and self.settings.index_path.exists() and self.settings.site_path.exists():
                    self.shared_version = library.publish(self.shared, self.settings)
            except Exception:  # noqa: BLE001 - retried at the next change
                log.exception("首次发布到共享数据库失败")
        if self.settings.auto_index:
            self.busy = True
            try:  # parse every case once now, so the first save re-parses one file, not all
                pipeline.check(self.settings, self._check_memo)
            except Exception:  # noqa: BLE001 - only a warm-up
                log.exception("预读案例时出错")
            finally:
                self.busy = False
        failures, retry_at = 0, 0.0
        while not self._stop.wait(interval):
            try:
                if self.settings.auto_index:
                    seen = self._cases_signature()
                    if (seen != self._cases_seen or self._site_stale) and time.monotonic() >= retry_at:
                        self.busy = True
                        self.update_from_cases()
                        self._cases_seen = seen  # only now: a failed update is tried again
                        failures = 0
                self.reload()
            except Exception:  # noqa: BLE001 - the watcher must survive anything
                if self._stop.is_set():
                    break
                failures += 1
                delay = min(MAX_RETRY_S, interval * 2 ** (failures - 1))
                retry_at = time.monotonic() + delay
                if failures == 1:
                    log.exception("自动更新索引失败，%.0f 秒后重试", delay)
                else:
                    log.warning("自动更新索引第 %d 次失败，%.0f 秒后重试", failures, delay)
            finally:
                self.busy = False

    def _watch_replica(self, interval: float) -> None:
        """A replica: wake on the writer's NOTIFY (or every 2 s at the latest), bring the newest
        version here and swap it in. The database being down changes nothing for searches:
        the loaded version keeps serving from memory; the loop reconnects with a backoff."""
        from search.shared import library

        conn, failures = None, 0
        while not self._stop.is_set():
            try:
                if conn is None:
                    conn = library.listener(self.shared)
                library.wait_for_publication(conn, 2 * interval) if conn is not None else self._stop.wait(2 * interval)
                if self._stop.is_set():
                    break
                self.shared_version = library.sync(self.shared, self.settings)
                self.reload()
                failures = 0
            except Exception as e:  # noqa: BLE001 - the watcher must survive anything
                failures += 1
                if failures == 1:
                    log.warning("共享数据库暂时连不上（%s），继续用已载入的版本服务", e.__class__.__name__)
                if conn is not None:
                    try:
                        conn.close()
                    except Exception:  # noqa: BLE001
                        pass
                conn = None
                self._stop.wait(min(MAX_RETRY_S / 6, interval * 2 ** min(failures, 4)))
        if conn is not None:
            conn.close()

    def close(self) -> None:
        """Stop the inference worker (an update in progress fails at its next batch) and
        the watcher, then close the log. Idempotent."""
        self._stop.set()
        self.inference.close()
        if self.clauses is not self.inference:
            self.clauses.close()
        w = self._watcher
        if w is not None and w is not threading.current_thread():
            w.join(WATCHER_JOIN_S)
            if w.is_alive():
                log.warning("后台更新仍在进行（如生成站点），不再等待")
        self.log.close()
        if self.shared is not None:
            self.shared.close()

    # ------------------------------------------------------------------ queries

    def require(self):
        s = self.searcher
        if s is None:
            raise IndexMissing("还没有检索索引 — 在服务器上运行 caselib build（或 caselib index）")
        return s

    def search(self, query: str, k: int, category=None, level=None, tags=None) -> SearchResult:
        s = self.require()
        result = s.search(query, k=k, category=category, level=level, tags=tags, weak_below=self.settings.weak_below)
        top = result.hits[0] if result.hits else None
        self.log.record_search(query, top.record.slug if top else None, top.dense if top else None,
                               len(result.hits), result.match != "strong", category, level)
        return result

    def explain(self, query: str, k: int, category=None, level=None, tags=None, mode: str = "hybrid"):
        """Hit testing (search.retrieval.explain); not logged: trainers' probes are not agents' searches."""
        from search.retrieval.explain import explain

        return explain(self.require(), query, k=k, weak_below=self.settings.weak_below, mode=mode,
                       category=category, level=level, tags=tags)

    def check_reply(self, text: str) -> list:
        return self.reply_checker.check(text)

    def popular(self, k: int) -> list:
        """Most-used precedents from the log; before there is any usage, the training
        material's own cases (source 培训教材), then the most serious levels."""
        s = self.require()
        slugs = [x for x in self.log.popular(k) if x in s.index.cases]
        if len(slugs) < k:
            ref = load_reference()
            order = {name: i for i, name in enumerate(ref.level_names)}  # most serious first
            training = ref.sources[0]  # the training material's own cases
            rest = sorted(s.index.cases.values(), key=lambda r: (r.source != training, order.get(r.level, len(order)), r.id))
            slugs += [r.slug for r in rest if r.slug not in slugs][: k - len(slugs)]
        return [s.index.cases[x] for x in slugs]
