"""Index build time for the seed corpus, in process, with the real embedder.

Per run, on a fresh temporary copy of corpus/ and an empty temporary index folder:
  first build → no-change rebuild → one document added (a second document) → that document
  edited → forced full rebuild of both documents.
`bot.store.build.build_index` is called directly; the embedder is wrapped to time `encode_passages`, so
"embedding" below is the model's share and "passages/s" is embedded texts (passages + sentences,
as the build embeds both) per embedding second. Model load time is reported on its own.

    .venv/bin/python -m bench.build [--quick] [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import time

from bench.common import (
    ADDED_DOC_ID,
    CpuMeter,
    added_document,
    header,
    loadavg,
    machine,
    median,
    offline,
    save_results,
    table,
    workspace,
)

offline()


class TimedEmbedder:
    """The real embedder, timing the passage encoding the build does."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.seconds = 0.0
        self.texts = 0
        self.tokens = 0

    def encode_queries(self, texts):
        return self.inner.encode_queries(texts)

    def encode_passages(self, texts, show_progress: bool = False):
        t = time.perf_counter()
        try:
            return self.inner.encode_passages(texts, show_progress=show_progress)
        finally:
            self.seconds += time.perf_counter() - t
            self.texts += len(texts)
            self.tokens += self._count_tokens(texts)

    def _count_tokens(self, texts) -> int:
        """Model tokens (with the passage prompt, truncated as the model truncates): texts/s
        depends on text length, tokens/s much less."""
        from bot.embed.base import PASSAGE_PROMPT

        if not texts:
            return 0
        onnx_tok = getattr(self.inner, "tokenizer", None)  # OnnxEmbedder: a truncating `tokenizers` tokenizer
        if onnx_tok is not None and hasattr(onnx_tok, "encode_batch"):
            return sum(len(e.ids) for e in onnx_tok.encode_batch([PASSAGE_PROMPT + t for t in texts]))
        st = getattr(self.inner, "model", None)
        if st is None:
            return 0
        enc = st.tokenizer([PASSAGE_PROMPT + t for t in texts], truncation=True,
                           max_length=st.max_seq_length)
        return sum(len(ids) for ids in enc["input_ids"])

    def reset(self) -> None:
        self.seconds, self.texts, self.tokens = 0.0, 0, 0


STEPS = ["first build", "no-change rebuild", "one document added", "one document edited",
         "forced full rebuild"]


def one_run(embedder: TimedEmbedder, tokenizer, max_bytes: int) -> dict:
    from bot.store.build import build_index

    out = {}
    with workspace() as ws:
        def step(name: str, **kw) -> None:
            embedder.reset()
            t = time.perf_counter()
            s = build_index(ws.corpus, ws.index, embedder, tokenizer, max_bytes=max_bytes, **kw)
            wall = time.perf_counter() - t
            out[name] = {"seconds": wall, "embed_s": embedder.seconds, "embedded_texts": s.embedded_texts,
                         "rest_s": wall - embedder.seconds,
                         "texts_per_s": (embedder.texts / embedder.seconds) if embedder.seconds else None,
                         "tokens": embedder.tokens,
                         "tokens_per_s": (embedder.tokens / embedder.seconds) if embedder.seconds else None,
                         "documents": s.documents, "passages": s.passages, "sentences": s.sentences,
                         "embedded_documents": s.embedded_documents, "reused_documents": s.reused_documents,
                         "changed": s.changed, "version": s.version}

        step("first build")
        step("no-change rebuild")
        (ws.corpus / f"{ADDED_DOC_ID}.md").write_text(added_document(1), encoding="utf-8")
        step("one document added")
        (ws.corpus / f"{ADDED_DOC_ID}.md").write_text(added_document(2), encoding="utf-8")
        step("one document edited")
        step("forced full rebuild", force=True)
    return out


def _report(backend: str, runs: list, args) -> dict:
    rows = []
    med = {}
    for name in STEPS:
        vals = [r[name] for r in runs]
        m = {k: median([v[k] for v in vals]) for k in ("seconds", "embed_s", "rest_s")}
        rates = [v["texts_per_s"] for v in vals if v["texts_per_s"]]
        m["texts_per_s"] = median(rates) if rates else None
        trates = [v["tokens_per_s"] for v in vals if v["tokens_per_s"]]
        m["tokens_per_s"] = median(trates) if trates else None
        first = vals[0]
        med[name] = {**m, "embedded_texts": first["embedded_texts"], "documents": first["documents"],
                     "passages": first["passages"], "sentences": first["sentences"]}
        rows.append([name, f"{first['documents']} / {first['passages']} / {first['sentences']}",
                     f"{first['embedded_documents']} / {first['embedded_texts']} / {first['tokens']}",
                     m["seconds"] * 1000, m["embed_s"] * 1000, m["rest_s"] * 1000,
                     "—" if m["texts_per_s"] is None else f"{m['texts_per_s']:.1f}",
                     "—" if m["tokens_per_s"] is None else f"{m['tokens_per_s']:.0f}",
                     " / ".join(f"{v['seconds'] * 1000:.0f}" for v in vals)])
    print(f"## Index build with the {backend} backend, in process (median of {args.repeat} "
          f"run{'s' if args.repeat > 1 else ''}), ms\n")
    print(table(["step", "docs / passages / sentences", "embedded docs / texts / tokens", "total",
                 "embedding", "rest (split, BM25, FAISS, write, fsync)", "texts/s", "tokens/s",
                 "runs (total)"], rows))
    print()
    return med


def main() -> None:
    import sys
    if "--ray" in sys.argv[1:]:  # local vs Ray on a generated larger corpus: bench/build_ray.py
        from bench.build_ray import main as ray_main
        return ray_main([a for a in sys.argv[1:] if a != "--ray"])
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1 run")
    ap.add_argument("--repeat", type=int, default=None, help="runs (default 5, quick 1)")
    ap.add_argument("--backends", default="onnx,torch", type=lambda v: [x for x in v.split(",") if x],
                    help="embedding backends, run alternately (default onnx,torch)")
    args = ap.parse_args()
    args.repeat = args.repeat or (1 if args.quick else 5)

    info = machine()
    header("bench.build", info)
    from bot.settings import Settings

    settings = Settings()
    from bot.embed.embedder import load_embedder
    from bot.text.analyser import Tokenizer
    t = time.perf_counter()
    tokenizer = Tokenizer()
    tok_s = time.perf_counter() - t
    embedders, load_s = {}, {}
    for backend in args.backends:
        t = time.perf_counter()
        embedders[backend] = TimedEmbedder(load_embedder(settings.model, settings.model_cache_dir,
                                                         settings.torch_threads, backend))
        load_s[backend] = time.perf_counter() - t
        # Warm the model once (first forward pass allocates) so run 1 is not an outlier.
        embedders[backend].inner.encode_passages(["ウォームアップ"])
    print(f"model {settings.model}: load " + ", ".join(f"{b} {s:.2f} s" for b, s in load_s.items())
          + f" (torch includes importing torch + sentence-transformers); Sudachi dictionary {tok_s:.2f} s; "
          f"threads {settings.torch_threads or 'all cores'}\n")

    runs: dict[str, list] = {b: [] for b in args.backends}
    t0 = time.perf_counter()
    for i in range(args.repeat):
        for backend, embedder in embedders.items():  # alternating, so contention hits both alike
            with CpuMeter(lambda: [os.getpid()]) as cpu:
                r = one_run(embedder, tokenizer, int(settings.max_file_mb * 1e6))
            runs[backend].append(r)
            times = ", ".join(f"{k} {v['seconds']:.2f} s" for k, v in r.items())
            print(f"run {i + 1}/{args.repeat} {backend}: {times}"
                  + f" (other processes used {cpu.cores_others:.2f} of {info['cores']} cores)", flush=True)
    print()
    med = {b: _report(b, r, args) for b, r in runs.items()}
    if len(med) > 1:
        first, *others = args.backends
        for other in others:
            print(f"texts/s {first} / {other} (same run): " + ", ".join(
                f"{name} {med[first][name]['texts_per_s'] / med[other][name]['texts_per_s']:.2f}×"
                for name in STEPS if med[first][name]["texts_per_s"] and med[other][name]["texts_per_s"]))
    print("\nModel load (not included above): " + ", ".join(f"{b} {s:.2f} s" for b, s in load_s.items())
          + f"; Sudachi dictionary {tok_s:.2f} s.")
    info["loadavg_end"] = loadavg()
    info["seconds"] = round(time.perf_counter() - t0, 1)
    print(f"load average at end {info['loadavg_end']}; total {info['seconds']} s")
    path = save_results("build", {"machine": info, "args": vars(args), "model_load_s": load_s,
                                  "tokenizer_s": tok_s, "runs": runs, "median": med})
    print(f"raw results: {path.relative_to(path.parents[2])}")


if __name__ == "__main__":
    main()
