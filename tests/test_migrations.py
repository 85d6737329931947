"""The authoring database's schema comes only from the Alembic migrations: they agree with
the models, run at start, and upgrade an older database in place, keeping its data."""

from __future__ import annotations

import re
import sqlite3

from sqlalchemy import text

import search.shared.models  # noqa: F401 - its tables are on the same Base
from search.authoring.db import HEAD, MIGRATIONS, open_database
from search.authoring.models import Base


def test_head_is_the_newest_migration_file():
    revisions = {}
    for path in (MIGRATIONS / "versions").glob("*.py"):
        body = path.read_text(encoding="utf-8")
        rev = re.search(r'^revision = "(\w+)"', body, re.M)
        if rev:
            revisions[rev.group(1)] = re.search(r"^down_revision = (.*)$", body, re.M).group(1).strip('"')
    downs = set(revisions.values())
    heads = [r for r in revisions if r not in downs]
    assert heads == [HEAD]


def test_the_migrations_build_exactly_the_models(tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    db = open_database(f"sqlite:///{tmp_path / 'a.sqlite3'}")
    with db.engine.connect() as c:
        diff = compare_metadata(MigrationContext.configure(c), Base.metadata)
    db.close()
    assert diff == []


def test_an_older_database_is_upgraded_and_keeps_its_users(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    old = open_database(url, migrate=False)
    old.migrate("0001")  # the first released schema: accounts only
    with old.engine.begin() as c:
        c.execute(text("insert into users (username, display_name, role, password_hash, disabled, created_at, updated_at) "
                       "values ('wang', '王', 'trainer', 'x', 0, '2026-01-01', '2026-01-01')"))
    assert old.revision() == "0001"
    old.close()

    db = open_database(url)  # what the server and every command do at start
    assert db.revision() == HEAD
    with db.engine.connect() as c:
        assert c.execute(text("select username from users")).scalars().all() == ["wang"]
        assert c.execute(text("select count(*) from drafts")).scalar() == 0
    db.close()


def test_opening_a_current_database_changes_nothing(tmp_path):
    path = tmp_path / "db.sqlite3"
    open_database(f"sqlite:///{path}").close()
    before = path.read_bytes()
    open_database(f"sqlite:///{path}").close()
    con = sqlite3.connect(path)
    assert con.execute("select version_num from alembic_version").fetchall() == [(HEAD,)]
    con.close()
    assert len(path.read_bytes()) == len(before)


def test_a_database_that_cannot_be_opened_is_a_clear_error(tmp_path):
    import pytest

    from search.errors import StateError

    bad = tmp_path / "not-a-db.sqlite3"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StateError) as e:
        open_database(f"sqlite:///{bad}")
    assert str(e.value).startswith(f"无法打开或升级数据库（sqlite:///{bad}）：")
    assert str(e.value).endswith("检查数据库是否在运行、地址和权限是否正确；数据不会被删除")
    assert bad.read_bytes() == b"this is not sqlite" * 100


def test_a_schema_newer_than_the_code_is_refused(tmp_path):
    import pytest

    from search.errors import StateError

    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    db = open_database(url)
    with db.engine.begin() as c:
        c.execute(text("update alembic_version set version_num = '0999'"))
    db.close()
    with pytest.raises(StateError) as e:
        open_database(url)
    assert str(e.value) == f"数据库的结构（0999）比这个版本的 caselib 新（最高 {HEAD}）— 先把这台机器上的 caselib 升级到与写服务相同的版本再启动"
