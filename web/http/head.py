"""HEAD on every GET route: FastAPI routes declared with GET answer HEAD with 405 (Starlette adds
HEAD to its own routes, FastAPI does not). A HEAD request is routed as GET and answered with the
GET response's status and headers (Content-Length included) and no body."""

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGetMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        # A copy: the server keeps its own scope (method HEAD) and so sends no body either.
        await self.app({**scope, "method": "GET"}, receive, send_headers_only)
