"""The MCP server (official `mcp` SDK; the tools are in web.mcp.tools).

Two transports share one definition of the tools:
- streamable HTTP at `/mcp` on the web server (`install` + `running`), on the server's engine,
  bounded question queue and metrics. Stateless, JSON responses: no session to lose between replicas, and
  the tools have no progress to stream. So only POST is served: GET (the optional server-to-client
  event stream, which never ends) and every other method answer 405 with `Allow: POST`, and no
  request to /mcp outlives its answer (an open stream counted as a busy connection forever).
- stdio for `jaxabot mcp` (`serve_stdio`), on an engine the command loads and a question queue of
  its own. A line that is not a JSON-RPC message is answered with a JSON-RPC error (id null).

The web server starts the SDK on the first /mcp request after its model has loaded: importing it
takes about half a second of CPU that would otherwise hold the interpreter on the way to the first
answer (cold start), and a server nobody asks over MCP never pays it. While the model
loads, /mcp answers 503 with Retry-After, as /api/ask does.
"""

import logging
from contextlib import asynccontextmanager
from importlib import import_module

import anyio
from anyio import to_thread
from fastapi import FastAPI
from starlette.requests import Request
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from bot.engine import Engine
from web.errors import error_response, not_ready
from web.exceptions import NotReady
from web.http.metrics import record_answer
from web.server.workqueue import QuestionQueue

log = logging.getLogger(__name__)

PATH = "/mcp"

# `from web.mcp.server import Tools` keeps working without importing the SDK with this module.
_TOOLS_NAMES = ("Tools", "AskResult", "create_server", "INSTRUCTIONS")


def __getattr__(name: str):
    if name in _TOOLS_NAMES:
        from web.mcp import tools as mcp_tools
        return getattr(mcp_tools, name)
    raise AttributeError(name)


# -- streamable HTTP on the web server --------------------------------------------------------

class _Endpoint:
    """An ASGI app (not a request handler): the SDK's session manager answers the request."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST":  # HEAD arrives as GET (web.http.head)
            response = error_response(Request(scope, receive), 405, "method_not_allowed",
                                      "the MCP endpoint is stateless: send JSON-RPC messages with POST",
                                      headers={"Allow": "POST"})
            await response(scope, receive, send)
            return
        app = scope["app"]
        started = getattr(app.state, "mcp_started", None)
        if started is not None and app.state.runtime.loaded.is_set():
            app.state.mcp_wanted.set()  # the first MCP request starts the SDK
            await started.wait()
        manager = getattr(app.state, "mcp_manager", None)
        if manager is None:
            message = ("the model and index are still loading; try again in a few seconds"
                       if started is not None and not started.is_set() else "the MCP server is not running")
            response = await not_ready(Request(scope, receive), NotReady(message))
            await response(scope, receive, send)
            return
        await manager.handle_request(scope, receive, send)


def install(app: FastAPI) -> None:
    # A Route given an ASGI app (not a request function) hands it the raw scope; `add_route` is
    # typed for request functions only.
    app.router.routes.append(Route(PATH, _Endpoint(), include_in_schema=False))


@asynccontextmanager
async def running(app: FastAPI):
    """Run the MCP session manager for the app's lifetime (enter it in the app's lifespan, after
    app.state.runtime exists), from the first /mcp request once the model has loaded. A session
    manager runs once, so each lifespan makes its own."""
    app.state.mcp_started = anyio.Event()
    app.state.mcp_wanted = anyio.Event()
    app.state.mcp_manager = None
    async with anyio.create_task_group() as tg:
        tg.start_soon(_serve_after_loading, app)
        try:
            yield
        finally:
            tg.cancel_scope.cancel()


async def _serve_after_loading(app: FastAPI) -> None:
    runtime = app.state.runtime
    started: anyio.Event = app.state.mcp_started
    try:
        await app.state.mcp_wanted.wait()
        while not runtime.loaded.is_set():
            await anyio.sleep(0.02)
        # Imported in a thread: the event loop keeps answering (health) meanwhile.
        tools_module = await to_thread.run_sync(import_module, "web.mcp.tools")

        def ready() -> Engine:
            return runtime.ready_engine()

        # The bounded queue of /api/ask; each call watches its own request for a disconnect.
        tools = tools_module.Tools(ready, runtime.questions, on_answer=lambda a: record_answer(app, a, "mcp"))
        server = tools_module.create_server(tools)
        # DNS-rebinding protection (Host/Origin allowlist) is on when the server listens on loopback.
        server.streamable_http_app(streamable_http_path=PATH, stateless_http=True, json_response=True,
                                   host=runtime.settings.host)
        async with server.session_manager.run():
            app.state.mcp_manager = server.session_manager
            started.set()
            await anyio.sleep_forever()
    except Exception:  # MCP is one surface: the rest of the server keeps serving
        log.exception("the MCP server could not start")
    finally:
        app.state.mcp_manager = None
        started.set()


# -- stdio for `jaxabot mcp` --------------------------------------------------------------------

def serve_stdio(engine: Engine, questions: QuestionQueue) -> None:
    """Serve the tools over stdin/stdout until the client closes them; tool calls go through
    `questions` (the same admission as the web server's)."""
    from web.mcp.tools import Tools, create_server

    anyio.run(_serve_stdio, create_server(Tools(lambda: engine, questions)))


async def _serve_stdio(server) -> None:
    """The SDK's `run_stdio_async`, plus an answer to every line it cannot read: the SDK drops
    such a line silently, and a client waiting for its answer would wait forever."""
    from mcp.server.stdio import stdio_server
    from mcp.shared.message import SessionMessage

    lowlevel = server._lowlevel_server  # what run_stdio_async runs (mcp is pinned)
    async with stdio_server() as (read_stream, write_stream):
        forward, messages = anyio.create_memory_object_stream[SessionMessage](0)

        async def answer_unreadable() -> None:
            async with forward, read_stream:
                async for item in read_stream:
                    if isinstance(item, Exception):
                        await write_stream.send(SessionMessage(_unreadable(item)))
                    else:
                        await forward.send(item)

        async with anyio.create_task_group() as tg:
            tg.start_soon(answer_unreadable)
            await lowlevel.run(messages, write_stream, lowlevel.create_initialization_options())
            tg.cancel_scope.cancel()


def _unreadable(exc: Exception):
    """The JSON-RPC error for a line that is not a message: -32700 (parse error) when it is not
    JSON, -32600 (invalid request) when it is JSON but not JSON-RPC; id null (nothing to answer)."""
    from mcp_types import INVALID_REQUEST, PARSE_ERROR, ErrorData, JSONRPCError
    from pydantic import ValidationError

    not_json = not isinstance(exc, ValidationError) or any(e["type"] == "json_invalid" for e in exc.errors())
    error = (ErrorData(code=PARSE_ERROR, message="Parse error: the line is not JSON") if not_json else
             ErrorData(code=INVALID_REQUEST, message="Invalid Request: the line is not a JSON-RPC message"))
    return JSONRPCError(jsonrpc="2.0", id=None, error=error)
