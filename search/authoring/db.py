"""The authoring database: one SQLAlchemy engine, its sessions, and the migrations.

`open_database(settings)` connects (SQLite under .caselib/ by default, or
CASELIB_DATABASE_URL) and brings the schema to the latest Alembic revision: a database
from an older version is upgraded in place, never dropped. Alembic itself is imported only
when there is something to upgrade, so `caselib user list` stays fast.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from search.errors import ConfigError, StateError

MIGRATIONS = Path(__file__).parent / "migrations"
UNREACHABLE = "数据库暂时连不上，这次操作没有保存 — 稍后再试（已保存的草稿和案例不会丢）；一直这样请联系管理员检查数据库服务"


def _unreachable(e: DBAPIError) -> bool:
    """The server is down or the connection broke (not a constraint or a bad statement)."""
    from sqlalchemy.exc import InterfaceError, OperationalError

    return isinstance(e, OperationalError | InterfaceError)
HEAD = "0005"  # the newest file in migrations/versions (tests/test_migrations.py checks they agree)


class Database:
    def __init__(self, engine: Engine):
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @contextmanager
    def session(self):
        """One unit of work: committed when the block ends, rolled back if it raises."""
        s: Session = self._sessions()
        try:
            yield s
            s.commit()
        except DBAPIError as e:
            s.rollback()
            if e.connection_invalidated or _unreachable(e):
                raise StateError(UNREACHABLE) from e
            raise
        except BaseException:
            try:
                s.rollback()
            except DBAPIError:
                pass
            raise
        finally:
            s.close()

    def revision(self) -> str | None:
        with self.engine.connect() as c:
            if not inspect(c).has_table("alembic_version"):
                return None
            return c.execute(text("select version_num from alembic_version")).scalar()

    def migrate(self, to: str = "head") -> None:
        """Upgrade the schema (no-op when it is current). A schema newer than this code (a
        newer caselib upgraded the database) is refused: this code would misread it."""
        current = self.revision()
        if current is not None and current not in known_revisions():
            raise StateError(f"数据库的结构（{current}）比这个版本的 caselib 新（最高 {HEAD}）— 先把这台机器上的 caselib 升级到与写服务相同的版本再启动")
        if to == "head" and current == HEAD:
            return
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, to)

    def close(self) -> None:
        self.engine.dispose()


def known_revisions() -> set[str]:
    return {p.name.split("_", 1)[0] for p in (MIGRATIONS / "versions").glob("[0-9]*_*.py")}


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")  # readers (the site's API calls) never wait for a save
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()


def engine_url(url: str) -> str:
    """postgresql://… means psycopg 3 (the driver the postgres extra installs)."""
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url[len(plain):]
    return url


def open_database(url: str, migrate: bool = True) -> Database:
    url = engine_url(url)
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = create_engine(url, pool_pre_ping=True)
    except (SQLAlchemyError, ImportError, ValueError) as e:
        raise ConfigError(f"数据库地址 CASELIB_DATABASE_URL 无法使用：{e} — 改成 sqlite:///路径 或 postgresql://用户:密码@主机/库名") from e
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    db = Database(engine)
    if migrate:
        try:
            db.migrate()
        except StateError:
            engine.dispose()
            raise
        except SQLAlchemyError as e:
            engine.dispose()
            where = engine.url.render_as_string(hide_password=True)
            raise StateError(f"无法打开或升级数据库（{where}）：{getattr(e, 'orig', None) or e} — "
                             "检查数据库是否在运行、地址和权限是否正确；数据不会被删除") from e
    return db
