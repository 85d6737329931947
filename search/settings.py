"""One typed settings object, from (lowest to highest priority) defaults, an optional
``caselib.toml`` in the project root, and ``CASELIB_*`` environment variables.

Nothing reads settings at import time: faces call `load_settings()` once and pass the
object down (`create_app(settings)`, `build(settings)`…).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from search.errors import ConfigError

ENV_PREFIX = "CASELIB_"
# Measured with benchmarks/calibrate.py on the embedded model: in-domain queries' best match
# has cosine p5 0.885 (min 0.866), off-topic questions (weather, shares, recipes) max 0.874.
# Below the cut results are still shown, marked 相似度低, never hidden.
EMBEDDED_WEAK_THRESHOLD = 0.875
CONFIG_NAME = "caselib.toml"


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    root: Path = Field(default_factory=Path.cwd, description="项目根目录（含 cases/、docs/、mkdocs.yml）")
    model: str = Field("embedded", description="检索模型：embedded（内置，离线）或任意 sentence-transformers 模型名/路径")
    cache_dir: Path = Field(default_factory=lambda: Path.home() / ".cache" / "caselib", description="转换后的内置模型等缓存，位于仓库之外")
    index_dir: Path | None = Field(None, description="索引目录，默认 <root>/.caselib/index")
    site_dir: Path | None = Field(None, description="站点输出目录，默认 <root>/site")
    host: str = Field("127.0.0.1", description="服务监听地址；默认只接受本机访问")
    port: int = Field(8000, ge=1, le=65535)
    token: str | None = Field(None, description="写操作/重载接口的令牌；未设置时只接受本机调用")
    log_searches: bool = Field(True, description="是否在本地记录检索日志（已脱敏）")
    backend: Literal["auto", "torch", "onnx", "onnx-int8", "openvino"] = Field(
        "auto",
        description="推理后端：auto（默认：内置模型用 onnx，其他模型用 torch）、torch、onnx、onnx-int8、openvino（需 pip install 'caselib[openvino]'）；"
        "onnx 与 torch 结果相同，索引通用",
    )
    clause_encoder: Literal["int8", "same"] = Field(
        "int8",
        description="长文本（几句话的投诉、留言）挑出的分句用什么编码：int8（默认：内置模型走 onnx 时用它的 int8 量化版，快约一倍，多占约 135 MB 内存，"
        "整段和索引仍用原模型）或 same（和整段用同一个编码器）",
    )
    server_threads: int = Field(
        1,
        ge=1,
        le=64,
        description="服务进程里模型推理用的线程数；默认 1：同机另有建索引等任务时不会互相拖慢（2 核上两个进程各用 2 线程，单次查询会从 10 毫秒变成几百毫秒）",
    )
    auto_index: bool = Field(True, description="serve 运行时，cases/ 有改动就自动校验、更新索引并重新生成站点")
    max_k: int = Field(20, ge=1, le=100, description="单次检索最多返回的案例数")
    database_url: str | None = Field(
        None, description="账号、草稿、审核和操作记录的数据库（SQLAlchemy URL）；默认 <root>/.caselib/caselib.sqlite3，也可填 postgresql://…"
    )
    require_login: bool = Field(False, description="为 true 时，检索和站点也要先登录；默认坐席不登录即可检索")
    allow_self_approval: bool = Field(False, description="为 true 时审核员可以批准自己写的草稿（人少的服务中心）")
    auth_header: str | None = Field(None, description="公司统一登录代理传来的用户名请求头，如 X-Remote-User；只认 trusted_proxies 发来的")
    trusted_proxies: str = Field("", description="可信代理的地址，逗号分隔（如 127.0.0.1,10.0.0.5）；只有它们发来的 auth_header 才算数")
    session_hours: int = Field(12, ge=1, le=24 * 30, description="登录保持多少小时")
    vector_search: Literal["faiss", "pgvector"] = Field(
        "faiss", description="向量检索：faiss（默认，索引在内存里）或 pgvector（共享数据库的 HNSW 索引回答，库大到副本内存放不下时用；写服务和副本都要设）"
    )
    replica: bool = Field(False, description="只读副本：从共享数据库（CASELIB_DATABASE_URL=postgresql://…）载入最新发布的案例库，不读本地 cases/")
    review_months: int = Field(12, ge=1, le=120, description="案例多少个月没有复核就显示“待复核”")
    quiz_pass: float = Field(0.8, ge=0.1, le=1.0, description="新员工测验的及格线：答对的比例达到它才算通过（0.8 即 10 题对 8 题）")
    weak_threshold: float | None = Field(
        None, description="最佳匹配的向量相似度低于此值时视为“没有好的匹配”；默认按内置模型校准为 0.875，换模型时请重新校准（benchmarks/calibrate.py）"
    )

    @property
    def weak_below(self) -> float:
        """The calibrated cut for the embedded model; other models need their own (0 = off)."""
        if self.weak_threshold is not None:
            return self.weak_threshold
        return EMBEDDED_WEAK_THRESHOLD if self.model == "embedded" else 0.0

    @property
    def cases_dir(self) -> Path:
        return self.root / "cases"

    @property
    def docs_dir(self) -> Path:
        return self.root / "docs"

    @property
    def state_dir(self) -> Path:
        return self.root / ".caselib"

    @property
    def index_path(self) -> Path:
        return self.index_dir or self.state_dir / "index"

    @property
    def site_path(self) -> Path:
        return self.site_dir or self.root / "site"

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.state_dir / 'caselib.sqlite3').absolute()}"

    @property
    def is_shared(self) -> bool:
        """The library and the search log live in PostgreSQL (one writer, any number of replicas)."""
        return self.db_url.startswith(("postgresql", "postgres:"))

    @property
    def trusted_proxy_set(self) -> frozenset[str]:
        return frozenset(x.strip() for x in self.trusted_proxies.split(",") if x.strip())

    @property
    def log_path(self) -> Path:
        return self.state_dir / "search-log.sqlite3"


def load_settings(root: Path | None = None, env: dict[str, str] | None = None, **overrides) -> Settings:
    env = dict(os.environ if env is None else env)
    values: dict = {}
    root = Path(root or env.get(ENV_PREFIX + "ROOT") or Path.cwd()).resolve()
    config = root / CONFIG_NAME
    if config.is_file():
        try:
            values.update(tomllib.loads(config.read_text(encoding="utf-8")))
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{config}: 配置文件格式错误：{e} — 按 TOML 格式改正，或删除该文件使用默认值") from e
    for name in Settings.model_fields:
        key = ENV_PREFIX + name.upper()
        if key in env and env[key] != "":
            values[name] = env[key]
    values.update({k: v for k, v in overrides.items() if v is not None})
    values["root"] = root
    try:
        return Settings.model_validate(values)
    except ValidationError as e:
        err = e.errors()[0]
        field = ".".join(str(x) for x in err["loc"])
        raise ConfigError(
            f"设置 {field} 的值“{err.get('input')}”无效：{err['msg']} — 检查环境变量 {ENV_PREFIX}{field.upper()} 或 {CONFIG_NAME}"
        ) from e


# A Settings object handed to a child process (the mkdocs build of `caselib build`), so
# overrides made in code reach it: the child reads this, not its own environment.
SETTINGS_JSON_ENV = ENV_PREFIX + "SETTINGS_JSON"
_PATH_FIELDS = ("root", "cache_dir", "index_dir", "site_dir")


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment entry that passes `settings` to a child process (read back with
    `passed_settings`). Paths are made absolute, since the child runs in the project root;
    the token and the database URL stay behind (the site build has no use for them)."""
    paths = {name: getattr(settings, name).absolute() for name in _PATH_FIELDS if getattr(settings, name) is not None}
    return {SETTINGS_JSON_ENV: settings.model_copy(update=paths).model_dump_json(exclude={"token", "database_url"})}


def passed_settings(env: dict[str, str] | None = None) -> Settings | None:
    """The settings a parent process passed (`settings_env`), or None when run on its own."""
    raw = (os.environ if env is None else env).get(SETTINGS_JSON_ENV)
    if not raw:
        return None
    try:
        return Settings.model_validate_json(raw)
    except ValidationError as e:
        raise ConfigError(
            f"环境变量 {SETTINGS_JSON_ENV} 中的设置无效：{e} — 它由 caselib build 设置，不要手动设置"
        ) from e
