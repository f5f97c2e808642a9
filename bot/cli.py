"""The `jaxabot` command. An edge: it builds the settings, calls the engine, and turns domain
errors into messages. Heavy imports (torch, faiss) happen inside the commands that need them, so
`jaxabot --help` stays instant."""

import json
import logging
import os
import sys
import time
import unicodedata
from pathlib import Path
from typing import Annotated, Any

import typer

from bot.errors import IndexCorrupt, JaxabotError, UploadTooLarge
from bot.settings import Settings

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="jaxabot: cited answers about JAXA's international cooperation.")

CorpusOpt = Annotated[Path | None, typer.Option("--corpus", help="corpus folder [JAXABOT_CORPUS_DIR]")]
IndexOpt = Annotated[Path | None, typer.Option("--index", help="index folder [JAXABOT_INDEX_DIR]")]
ModelOpt = Annotated[str | None,
                     typer.Option("--model", help="sentence-transformers model id or folder [JAXABOT_MODEL]")]


def _settings(corpus: Path | None = None, index: Path | None = None, model: str | None = None) -> Settings:
    overrides: dict[str, Any] = {k: v for k, v in {"corpus_dir": corpus, "index_dir": index, "model": model}.items()
                                 if v is not None}
    return Settings(**overrides)


def _fail(exc: JaxabotError) -> None:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1) from None


# Shown as a space: line and paragraph breaks, tabs. Escaped: every other control character
# (C0, DEL, C1: ESC and OSC sequences, \r that overwrites a line), format characters (bidi
# overrides and isolates, zero-width ones) and lone surrogates.
_SPACES = {"\n", "\r\n", "\t", "\u2028", "\u2029"}


def printable(text: str) -> str:
    """`text` safe to print on a terminal, on one line: nothing in it can move the cursor,
    change colours, set the title or clipboard, or reorder what follows."""
    out = []
    for ch in text.replace("\r\n", "\n"):
        if ch in _SPACES:
            out.append(" ")
        elif unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000
                       else f"\\U{code:08x}")
        else:
            out.append(ch)
    return "".join(out)


def _embedder(s: Settings):
    from bot.embed.embedder import load_embedder
    from bot.settings import cpu_count
    return load_embedder(s.model, s.model_cache_dir, s.torch_threads or cpu_count(), s.embed_backend,
                         s.query_int8)


def _engine(s: Settings):
    from bot.engine import Engine, Models
    models = Models.load()  # before the model: a fitted file that does not fit the code stops here
    return Engine.load(s.index_dir, _embedder(s), models=models)


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s: %(message)s")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@app.command()
def index(corpus: CorpusOpt = None, index: IndexOpt = None, model: ModelOpt = None,
          check: Annotated[bool, typer.Option("--check", help="verify the current index and exit")] = False,
          force: Annotated[bool, typer.Option("--force", help="re-embed every document")] = False,
          rollback: Annotated[bool, typer.Option(
              "--rollback", help="make the version live before the current one current again")] = False,
          ray: Annotated[str | None, typer.Option(
              "--ray", metavar="ADDRESS",
              help="embed on a Ray cluster at ADDRESS, or `local` [JAXABOT_RAY_ADDRESS]")] = None,
          ) -> None:
    """Build or incrementally rebuild the index from the corpus."""
    s = _settings(corpus, index, model)
    if ray:
        s.ray_address = ray
    try:
        if check:
            from bot.store.index import load_index
            idx = load_index(s.index_dir)
            m = idx.manifest
            typer.echo(f"ok: {idx.version} — {m['counts']['documents']} documents, "
                       f"{m['counts']['passages']} passages, model {m['model']['id']} "
                       f"(dim {m['model']['dim']}), {len(m['files'])} files verified")
            return
        if rollback:
            from bot.store.versions import rollback as do_rollback
            typer.echo(f"current version is now {do_rollback(s.index_dir)}")
            return
        from bot.ingest.documents import ReadOptions
        from bot.store.build import build_index
        from bot.text.analyser import Tokenizer
        if s.ray_address:
            _index_on_ray(s, s.ray_address, force)
            return
        t = time.perf_counter()
        embedder = _embedder(s)
        load_s = time.perf_counter() - t
        with _ProgressBar(enabled=sys.stderr.isatty()) as bar:
            summary = build_index(s.corpus_dir, s.index_dir, embedder, Tokenizer(),
                                  max_bytes=int(s.max_file_mb * 1e6), keep_previous=s.keep_previous,
                                  force=force, progress=bar.update, read_options=ReadOptions.from_settings(s))
    except JaxabotError as exc:
        _fail(exc)
    _report_build(summary, f"+{load_s:.2f} s model load")


def _report_build(summary, extra: str) -> None:
    for sk in summary.skipped:
        kept = " (its previous version stays in the index)" if sk.kept_previous else ""
        typer.secho(f"warning: skipped {sk.path}: {sk.reason}{kept}", fg=typer.colors.YELLOW, err=True)
    for sk in summary.left_out:
        typer.secho(f"warning: {sk.path}: {sk.reason}", fg=typer.colors.YELLOW, err=True)
    state = "built" if summary.changed else "up to date"
    typer.echo(f"{state}: {summary.version} — {summary.documents} documents, {summary.passages} passages, "
               f"{summary.sentences} sentences; embedded {summary.embedded_documents} documents "
               f"({summary.embedded_texts} texts), reused {summary.reused_documents}, removed "
               f"{summary.removed_documents}; {summary.dense_type} index; "
               f"{summary.seconds:.2f} s ({extra})"
               + (f"; embedding {summary.texts_per_second:.1f} texts/s" if summary.texts_per_second else "")
               + (f"; {summary.ocr_pages} PDF pages OCR'd" if summary.ocr_pages else ""))


def _index_on_ray(s: Settings, address: str, force: bool) -> None:
    """The build with its embedding on a Ray cluster; the driver never loads the model."""
    # (A missing `ray` package is reported by bot.store.distributed as a build error.)
    from bot.ingest.documents import ReadOptions
    from bot.store.build import build_index
    from bot.store.distributed import RayEmbedder, ray_session, settings_loader
    from bot.text.analyser import Tokenizer

    last = [0.0]

    def on_rows(done: int, total: int, rate: float | None) -> None:
        now = time.monotonic()
        if done < total and now - last[0] < 2.0:
            return
        last[0] = now
        speed = f", {rate:.1f} texts/s" if rate else ""
        typer.echo(f"embedded {done:,} / {total:,} texts on Ray{speed}", err=True)

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    try:
        with ray_session(address):
            embedder = RayEmbedder(s.model, settings_loader(s), actors=s.ray_actors, on_rows=on_rows)
            summary = build_index(s.corpus_dir, s.index_dir, embedder, Tokenizer(),
                                  max_bytes=int(s.max_file_mb * 1e6), keep_previous=s.keep_previous,
                                  force=force, read_options=ReadOptions.from_settings(s))
    except JaxabotError as exc:
        _fail(exc)
    backend = embedder.last_run.get("backend")
    _report_build(summary, f"embedded on Ray at {s.ray_address}" + (f" with {backend}" if backend else ""))


class _ProgressBar:
    """A tqdm bar per build stage that has a count (documents split, texts embedded)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar = None
        self.stage = None

    def update(self, p) -> None:
        if not self.enabled:
            return
        from tqdm import tqdm
        done, total, unit = ((p.rows_done, p.rows_total, "texts") if p.stage == "embedding"
                             else (p.documents_done, p.documents_total, "docs"))
        if p.stage != self.stage:
            self.close()
            self.stage = p.stage
            if total:
                self.bar = tqdm(total=total, desc=p.stage, unit=unit, leave=False, file=sys.stderr)
        if self.bar is not None:
            self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@app.command()
def ask(question: str,
        history: Annotated[Path | None, typer.Option("--history", help="JSON file: [{role, content}, ...]")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="print the JSON result")] = False,
        top_k: Annotated[int, typer.Option("--top-k")] = 3,
        index: IndexOpt = None, model: ModelOpt = None) -> None:
    """Answer a question with citations."""
    s = _settings(index=index, model=model)
    try:
        turns = json.loads(history.read_text(encoding="utf-8")) if history else []
    except (OSError, ValueError) as exc:
        typer.secho(f"error: cannot read history file {history}: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    from bot.engine import validate
    try:
        validate(question, turns, top_k)  # the engine's own check, before loading the model
        result = _engine(s).ask(question, turns, top_k)
    except JaxabotError as exc:
        _fail(exc)
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return
    typer.echo(result.answer)
    for c in result.citations:
        h0, h1 = c.highlight
        typer.echo(f"\n[{c.n}] {c.title} — {c.section}  ({c.url or c.doc_id})")
        typer.echo(f"    {c.text[:h0]}【{c.text[h0:h1]}】{c.text[h1:]}".replace("\n", " "))
    if result.related:
        typer.echo("\nRelated passages:")
        for r in result.related:
            typer.echo(f"  - {r.title} — {r.section}: {r.text[:80]}…".replace("\n", " "))


@app.command("eval")
def evaluate(file: Path,
             json_out: Annotated[Path | None, typer.Option("--json", help="write metrics and cases here")] = None,
             evidence: Annotated[bool, typer.Option(
                 "--evidence", help="also print the refusal evidence per case")] = False,
             index: IndexOpt = None, model: ModelOpt = None) -> None:
    """Score the engine on a JSONL file of questions with gold spans."""
    from dataclasses import asdict

    from bot.evaluate import format_evidence, format_report, load_cases, run_eval
    s = _settings(index=index, model=model)
    try:
        report = run_eval(_engine(s), load_cases(file), s.top_k)
    except JaxabotError as exc:
        _fail(exc)
    typer.echo(format_report(report))
    if evidence:
        typer.echo("\n" + format_evidence(report))
    if json_out:
        json_out.write_text(json.dumps({"metrics": report.metrics(),
                                        "cases": [asdict(c) for c in report.cases]},
                                       ensure_ascii=False, indent=2), encoding="utf-8")


@app.command()
def serve(host: Annotated[str | None, typer.Option(help="[JAXABOT_HOST]")] = None,
          port: Annotated[int | None, typer.Option(help="[JAXABOT_PORT]")] = None,
          corpus: CorpusOpt = None, index: IndexOpt = None, model: ModelOpt = None,
          watch: Annotated[bool, typer.Option(
              "--watch", help="rebuild when the corpus changes [JAXABOT_WATCH]")] = False,
          ) -> None:
    """Serve the web chat and JSON API (building the index first if there is none)."""
    import uvicorn

    from bot.engine import Models
    from bot.ingest.documents import require_documents
    from bot.store.versions import current_version
    s = _settings(corpus, index, model)
    if watch:
        s = s.model_copy(update={"watch": True})
    try:
        # A fitted file that does not fit the code: no server at all, one line saying which and why.
        models = Models.load()
        try:
            pointer = current_version(s.index_dir)
        except IndexCorrupt as exc:
            # The server serves the newest intact version (degraded) and says why.
            typer.secho(f"warning: {exc}; serving the newest intact version", fg=typer.colors.YELLOW, err=True)
            pointer = ""
        if pointer is None:
            # Fail here, before starting a server, if there is nothing to build from.
            docs, _ = require_documents(s.corpus_dir, int(s.max_file_mb * 1e6))
            typer.echo(f"no index yet: the server builds it from {len(docs)} documents on start")
            s = s.model_copy(update={"build_if_missing": True})
    except JaxabotError as exc:
        _fail(exc)
    # Request deadlines and the connection cap live in the protocol (web/server/connections.py); the
    # work is bounded by the app's question queue, so uvicorn's limit_concurrency (which counts
    # idle connections too, and then refuses everyone) is not used.
    # X-Forwarded-For is believed only from JAXABOT_TRUSTED_PROXIES (uvicorn's default trusts 127.0.0.1).
    from web.app import create_app
    from web.http.proxies import uvicorn_options
    uvicorn.run(create_app(s, models=models), host=host or s.host, port=port or s.port,
                http="web.server.connections:GuardedH11Protocol", log_level="info", timeout_graceful_shutdown=5,
                **uvicorn_options(s.trusted_networks))


feedback_app = typer.Typer(no_args_is_help=True, help="Readers' feedback on answers (thumbs up/down, comments).")
app.add_typer(feedback_app, name="feedback")


@feedback_app.command("export")
def feedback_export(
        as_json: Annotated[bool, typer.Option("--json", help="print a JSON array")] = False,
        data_dir: Annotated[Path | None, typer.Option("--data-dir", help="data folder [JAXABOT_DATA_DIR]")] = None,
) -> None:
    """Print all feedback, newest first: rating, time, index version, question, answer, comment, sources."""
    from bot.feedback import FILENAME, FeedbackStore
    s = Settings(data_dir=data_dir) if data_dir is not None else Settings()
    records = []
    if (s.data_dir / FILENAME).exists():  # exporting never creates the database
        try:
            store = FeedbackStore(s.data_dir)
            records = store.list()
            store.close()
        except JaxabotError as exc:
            _fail(exc)
    if as_json:
        typer.echo(json.dumps([r.model_dump() for r in records], ensure_ascii=False, indent=2))
        return
    if not records:
        typer.echo(f"no feedback yet in {s.data_dir}")
        return
    for r in records:
        # Everything but the rating was sent by a reader: shown on one line, with control
        # characters escaped, so nothing in it can drive the terminal (printable).
        typer.echo(f"{'+1' if r.rating == 'up' else '-1'}  {printable(r.created_at)}  "
                   f"index {printable(r.index_version)}  [{printable(r.id)}]")
        typer.echo(f"  Q: {printable(r.question)}")
        typer.echo(f"  A: {printable(r.answer)}")
        if r.comment:
            typer.echo(f"  comment: {printable(r.comment)}")
        for c in r.citations:
            typer.echo(f"  [{printable(str(c.get('n')))}] {printable(str(c.get('title', '')))} — "
                       f"{printable(str(c.get('section', '')))} ({printable(str(c.get('chunk_id', '')))})")
        typer.echo("")


documents_app = typer.Typer(no_args_is_help=True, help="Corpus files: list, add, remove (into the trash), restore.")
app.add_typer(documents_app, name="documents")
DataOpt = Annotated[Path | None, typer.Option("--data-dir", help="data folder: trash, audit log [JAXABOT_DATA_DIR]")]


def _corpus(corpus: Path | None, index: Path | None, data_dir: Path | None):
    from bot.audit import AuditLog
    from bot.corpus import Corpus
    s = _settings(corpus, index)
    if data_dir is not None:
        s.data_dir = data_dir
    return Corpus(s.corpus_dir, s.data_dir, s.index_dir, int(s.max_file_mb * 1_000_000)), AuditLog(s.data_dir)


def _who() -> str:
    import getpass
    try:
        return f"cli ({getpass.getuser()})"
    except (KeyError, OSError):
        return "cli"


@documents_app.command("list")
def documents_list(corpus: CorpusOpt = None, index: IndexOpt = None, data_dir: DataOpt = None,
                   as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False) -> None:
    """The corpus files with their index status (indexed, changed, pending, skipped with the
    reason, removed), then the trash."""
    files, _ = _corpus(corpus, index, data_dir)
    listing = files.listing()
    if as_json:
        typer.echo(listing.model_dump_json(indent=2))
        return
    typer.echo(f"index version: {listing.current_version or 'none'}")
    for d in listing.documents:
        size = "-" if d.size is None else str(d.size)
        typer.echo(f"{d.status:8} {printable(d.name)}  {d.format}  {size} B  "
                   f"passages {d.passages if d.passages is not None else '-'}  {printable(d.title or '')}"
                   + (f"  ({printable(d.reason)})" if d.reason else ""))
    for e in listing.trash:
        typer.echo(f"trash    {printable(e.name)}  [{e.id}] deleted {e.deleted_at:%Y-%m-%d %H:%M} by "
                   f"{printable(e.deleted_by)}" + ("  (still in the index)" if e.in_index else ""))


@documents_app.command("add")
def documents_add(files: Annotated[list[Path], typer.Argument(help="files to copy into the corpus")],
                  replace: Annotated[bool, typer.Option("--replace", help="replace files of the same name")] = False,
                  corpus: CorpusOpt = None, index: IndexOpt = None, data_dir: DataOpt = None) -> None:
    """Copy files into the corpus folder (names sanitised, type checked by content, written
    atomically). All are checked before any is written. Run `jaxabot index` afterwards."""
    store, audit = _corpus(corpus, index, data_dir)
    try:
        for f in files:  # before reading: a huge file is refused without being read
            if f.stat().st_size > store.max_bytes:
                _fail(UploadTooLarge(f"{f.name}: {f.stat().st_size / 1e6:.1f} MB is over the "
                                     f"{store.max_bytes / 1e6:g} MB limit (JAXABOT_MAX_FILE_MB)"))
        data = [(f.name, f.read_bytes()) for f in files]
    except OSError as exc:
        typer.secho(f"error: cannot read {exc.filename}: {exc.strerror}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    try:
        written = store.add(data, replace=replace)
    except JaxabotError as exc:
        _fail(exc)
    who = _who()
    for name, replaced in written:
        audit.record(who, "replace" if replaced else "upload", name)
        typer.echo(f"{'replaced' if replaced else 'added'} {printable(name)}")
    typer.echo("run `jaxabot index` (or rebuild from the admin page) to index the change")


@documents_app.command("remove")
def documents_remove(names: Annotated[list[str], typer.Argument(
                         help="corpus files, as `jaxabot documents list` names them")],
                     corpus: CorpusOpt = None, index: IndexOpt = None, data_dir: DataOpt = None) -> None:
    """Move files to the trash (restorable with `jaxabot documents restore ID` until the next
    build publishes without them)."""
    store, audit = _corpus(corpus, index, data_dir)
    who = _who()
    for name in names:
        try:
            entry = store.remove(name, who)
        except JaxabotError as exc:
            _fail(exc)
        audit.record(who, "delete", entry.name)
        typer.echo(f"moved {printable(entry.name)} to the trash [{entry.id}]")


@documents_app.command("restore")
def documents_restore(entry_id: Annotated[str, typer.Argument(help="the trash entry's id (see `documents list`)")],
                      corpus: CorpusOpt = None, index: IndexOpt = None, data_dir: DataOpt = None) -> None:
    """Put a deleted file back into the corpus folder."""
    store, audit = _corpus(corpus, index, data_dir)
    try:
        name = store.restore(entry_id)
    except JaxabotError as exc:
        _fail(exc)
    audit.record(_who(), "restore", name)
    typer.echo(f"restored {printable(name)}")


@app.command()
def mcp(index: IndexOpt = None, model: ModelOpt = None) -> None:
    """Serve the MCP tools ask, search and get_document over stdio (the web server: /mcp)."""
    from bot.errors import IndexMissing
    from bot.store.versions import current_version
    s = _settings(index=index, model=model)
    try:
        # Before serving, and before the model load when there is no index at all: a client
        # shows the server's stderr, so the reason must be there, not in a failed tool call.
        if current_version(s.index_dir) is None:
            raise IndexMissing(f"no index in {s.index_dir}; build one with `jaxabot index`")
        engine = _engine(s)
    except JaxabotError as exc:
        _fail(exc)
    from web.mcp.server import serve_stdio
    from web.server.workqueue import QuestionQueue
    # The web server's admission rules: JAXABOT_WORKERS at once, JAXABOT_QUEUE_LIMIT waiting.
    serve_stdio(engine, QuestionQueue(s.workers, s.queue_limit))


def run() -> None:
    app()


if __name__ == "__main__":
    run()
