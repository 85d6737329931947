"""What the server serves besides the API: the built site at /, the OpenAPI UI at /docs
from local assets (no CDN on an intranet), and the security headers on every response."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    # Material uses small inline scripts; everything else comes from this origin only.
    "Content-Security-Policy": "default-src 'self'; script-src 'self' 'unsafe-inline'; "
                               "style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
                               "frame-ancestors 'none'",
}


def install_security_headers(app: FastAPI) -> None:
    @app.middleware("http")
    async def headers(request: Request, call_next):
        response = await call_next(request)
        for k, v in SECURITY_HEADERS.items():
            response.headers.setdefault(k, v)
        return response


def mount_docs(app: FastAPI) -> None:
    """OpenAPI UI at /docs with Swagger UI from the swagger-ui-bundle package (no CDN)."""
    from fastapi.openapi.docs import get_swagger_ui_html
    from swagger_ui_bundle import swagger_ui_path

    app.mount("/_docs-assets", StaticFiles(directory=swagger_ui_path), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs():
        return get_swagger_ui_html(
            openapi_url=app.openapi_url,
            title=app.title,
            swagger_js_url="/_docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/_docs-assets/swagger-ui.css",
            swagger_favicon_url="/_docs-assets/favicon-32x32.png",
        )


class _SiteFiles(StaticFiles):
    """Serves whatever site/ points to now (the symlink is swapped by `caselib build`).
    A missing site is a 404 like any missing file, never a server error."""

    def __init__(self, link: Path, api_routes: list):
        self.link = link
        self.api_routes = [r for r in api_routes if isinstance(r, APIRoute)]
        super().__init__(directory=str(link), html=True, check_dir=False)

    async def check_config(self) -> None:
        return None

    async def __call__(self, scope, receive, send):
        # A request that reached the catch-all site mount with an API path used a wrong
        # method or a wrong path: answer as the API would, not as a file server.
        path = scope["path"]
        allowed = {m for r in self.api_routes if r.path_regex.match(path) for m in r.methods}
        if allowed:
            raise StarletteHTTPException(405, headers={"Allow": ", ".join(sorted(allowed))})
        if path.startswith("/api/"):
            raise StarletteHTTPException(404)
        await super().__call__(scope, receive, send)

    def lookup_path(self, path: str):
        target = self.link.resolve()
        if not target.is_dir():
            return "", None
        self.all_directories = [str(target)]
        return super().lookup_path(path)


def mount_site(app: FastAPI, site: Path, api_routes: list) -> None:
    """The site at / (mounted last: it catches every path the API does not have; a path
    of ``api_routes`` asked with another method is a 405, as the API would answer)."""

    @app.get("/", include_in_schema=False)
    def home():
        index = site / "index.html"
        if index.is_file():
            return HTMLResponse(index.read_text(encoding="utf-8"))
        return HTMLResponse(
            "<!doctype html><meta charset=utf-8><title>物业客服案例库</title>"
            "<h1>站点尚未构建</h1><p>在项目目录运行 <code>caselib build</code> 生成站点；"
            "检索接口在 <a href='/docs'>/docs</a>。</p>",
            status_code=503,
        )

    app.mount("/", _SiteFiles(site, api_routes), name="site")
