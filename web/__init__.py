"""The HTTP edge of jaxabot: a FastAPI app (JSON API, chat and document pages, admin rebuild,
OpenAI-compatible /v1, MCP at /mcp, Prometheus /metrics).

It imports `bot`; nothing in `bot` imports it. Build it with `web.app.create_app`.
"""
