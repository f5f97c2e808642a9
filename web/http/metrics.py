"""Prometheus metrics at GET /metrics (prometheus-client).

- HTTP requests and latency by route template, method and status (an ASGI middleware, so
  streamed responses, 413s from the body limit and crashes are counted too);
- answers by outcome (`found` / `refused`) and interface (api, page, openai, mcp);
- the bounded question queue (web.server.workqueue): workers, busy, waiting, limit, rejections, abandoned;
- the served index: version (an info-style gauge), age, documents, passages;
- index builds (first build and rebuilds): duration histogram by outcome, failures.

Every label comes from a fixed set, so the number of series is bounded by construction whatever
clients send: `route` is a route template or `unmatched`, `method` one of `METHODS` or `other`,
`status` a status code from 100 to 599 or `other`. The text is rendered in a worker thread, off
the event loop. Each app has its own registry (tests create many apps in one process). Gauges about the runtime
are read when Prometheus scrapes, so they cannot go stale. When `JAXABOT_ADMIN_TOKEN` is set the
endpoint needs it as a Bearer token unless `JAXABOT_METRICS_PUBLIC=true`.
"""

import time
from datetime import UTC, datetime
from typing import Annotated

from anyio import to_thread
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.results import Answer
from web.deps import SettingsDep
from web.http.security import token_matches

# Seconds; questions take ~0.05-2 s on a laptop CPU, rebuilds seconds to minutes.
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
BUILD_BUCKETS = (1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
# The `method` label: any other method (HTTP allows any token) counts as `other`.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"})


def method_label(method: str) -> str:
    return method if method in METHODS else "other"


def status_label(status: int) -> str:
    return str(status) if 100 <= status <= 599 else "other"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        labels = ["route", "method", "status"]
        self.requests = Counter("jaxabot_http_requests", "HTTP requests by route template, method and status",
                                labels, registry=r)
        self.latency = Histogram("jaxabot_http_request_duration_seconds",
                                 "Time to the end of the response, by route template, method and status",
                                 labels, buckets=REQUEST_BUCKETS, registry=r)
        self.answers = Counter("jaxabot_answers", "Answers by outcome (found or refused) and interface",
                               ["outcome", "interface"], registry=r)
        self.builds = Histogram("jaxabot_index_build_duration_seconds",
                                "Index builds (first build and rebuilds) by outcome",
                                ["outcome"], buckets=BUILD_BUCKETS, registry=r)
        self.build_failures = Counter("jaxabot_index_build_failures", "Index builds that failed",
                                      registry=r)

    def answered(self, answer: Answer, interface: str) -> None:
        self.answers.labels("found" if answer.found else "refused", interface).inc()

    def build_finished(self, ok: bool, seconds: float) -> None:
        self.builds.labels("ok" if ok else "failed").observe(seconds)
        if not ok:
            self.build_failures.inc()


def record_answer(app: FastAPI, answer: Answer, interface: str) -> None:
    metrics = getattr(app.state, "metrics", None)
    if metrics is not None:
        metrics.answered(answer, interface)


class RuntimeCollector:
    """Gauges read from the running server at scrape time."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def describe(self):
        return []  # registered without describing: collect() needs a started app

    def collect(self):
        runtime = getattr(self.app.state, "runtime", None)
        if runtime is None:
            return
        queue = runtime.questions.snapshot()
        yield GaugeMetricFamily("jaxabot_workers", "Concurrent question workers", value=queue["workers"])
        yield GaugeMetricFamily("jaxabot_workers_busy", "Workers computing an answer now", value=queue["running"])
        yield GaugeMetricFamily("jaxabot_queue_length", "Questions waiting for a free worker",
                                value=queue["waiting"])
        yield GaugeMetricFamily("jaxabot_queue_limit", "Questions allowed to wait before 503",
                                value=queue["limit"])
        yield CounterMetricFamily("jaxabot_queue_rejections", "Questions refused because the queue was full",
                                  value=queue["rejected"])
        yield CounterMetricFamily("jaxabot_queue_abandoned", "Questions dropped because the client left "
                                  "before they were computed", value=queue["abandoned"])
        up = GaugeMetricFamily("jaxabot_up", "1 for the current state (ok, degraded, loading, no_index, error)",
                               labels=["state"])
        up.add_metric([runtime.status], 1)
        yield up
        engine = runtime.engine
        index = engine.index if engine is not None else None
        if index is None:
            return
        info = GaugeMetricFamily("jaxabot_index_info", "The index version being served (always 1)",
                                 labels=["version", "model"])
        info.add_metric([index.version, index.model], 1)
        yield info
        built_at = index.manifest.get("built_at")
        if built_at:
            age = (datetime.now(UTC) - datetime.fromisoformat(built_at)).total_seconds()
            yield GaugeMetricFamily("jaxabot_index_age_seconds", "Seconds since the served index was built",
                                    value=max(0.0, age))
        yield GaugeMetricFamily("jaxabot_index_documents", "Documents in the served index",
                                value=len(index.documents))
        yield GaugeMetricFamily("jaxabot_index_passages", "Passages in the served index",
                                value=len(index.passages))


class MetricsMiddleware:
    """Counts and times every HTTP request by its route template (bounded cardinality: an
    unknown path counts as `unmatched`, never as itself)."""

    def __init__(self, app: ASGIApp, metrics: Metrics, routes: list[BaseRoute]) -> None:
        self.app = app
        self.metrics = metrics
        # FastAPI names the matched route in the scope for its own routes only; plain Starlette
        # routes (/mcp, the /static mount) are matched here, before routing rewrites the scope.
        self.routes = routes

    def _plain_route(self, scope: Scope) -> str | None:
        for route in self.routes:
            if not isinstance(route, (Route, Mount)) or isinstance(route, APIRoute):
                continue  # FastAPI's own routes name themselves in the scope
            if route.matches(scope)[0] is Match.FULL:
                return route.path
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # if the app raises before answering, the client gets a 500
        plain = self._plain_route(scope)

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = getattr(scope.get("route"), "path", None) or plain or "unmatched"
            labels = (route, method_label(scope["method"]), status_label(status))
            self.metrics.requests.labels(*labels).inc()
            self.metrics.latency.labels(*labels).observe(time.perf_counter() - start)


_bearer = HTTPBearer(auto_error=False, description="the server's JAXABOT_ADMIN_TOKEN")


def require_metrics_access(settings: SettingsDep,
                           credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> None:
    if not settings.admin_token or settings.metrics_public:
        return
    if credentials is None:
        raise HTTPException(401, "metrics need the admin token: Authorization: Bearer <token>",
                            headers={"WWW-Authenticate": "Bearer"})
    if not token_matches(credentials.credentials, settings.admin_token):
        raise HTTPException(403, "the admin token is not valid")


router = APIRouter(include_in_schema=False, dependencies=[Depends(require_metrics_access)])


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    # Collecting and rendering every series is CPU work: in a thread, so the loop stays free.
    body = await to_thread.run_sync(generate_latest, request.app.state.metrics.registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def install(app: FastAPI) -> Metrics:
    """Create the app's metrics, the /metrics route and the counting middleware. Call it last
    in create_app so the middleware is outermost and sees every response."""
    # `*_created` series only double the output; Prometheus does not need them.
    disable_created_metrics()
    m = Metrics()
    m.registry.register(RuntimeCollector(app))
    app.state.metrics = m
    app.include_router(router)
    app.add_middleware(MetricsMiddleware, metrics=m, routes=app.router.routes)
    return m
