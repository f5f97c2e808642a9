"""`jaxabot mcp` with the fake embedder: the stdio MCP server as a real process, without the
model. Usage: fake_mcp_stdio.py INDEX"""

import sys
from pathlib import Path

from fakes import FakeEmbedder

from bot.engine import Engine, Models
from web.mcp.server import serve_stdio
from web.server.workqueue import QuestionQueue

if __name__ == "__main__":
    engine = Engine.load(Path(sys.argv[1]), FakeEmbedder(), models=Models.load())
    serve_stdio(engine, QuestionQueue(workers=1, limit=4))
