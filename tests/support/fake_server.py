"""A real uvicorn server process with the fake embedder, for tests that must survive (or watch
for) what would kill a process: truncated index files, files changed under it.
Usage: fake_server.py CORPUS INDEX PORT [FOLLOW_INTERVAL]"""

import logging
import sys
from pathlib import Path

import uvicorn
from fakes import FakeEmbedder

from bot.settings import Settings
from web.app import create_app

if __name__ == "__main__":
    corpus, index, port = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    follow = float(sys.argv[4]) if len(sys.argv) > 4 else 0.2
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = Settings(corpus_dir=corpus, index_dir=index, model="fake-bigram", admin_token="t0ken",
                        cors_origins="", workers=1, follow_interval=follow)
    app = create_app(settings, embedder=FakeEmbedder())
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
