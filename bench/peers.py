"""jaxabot against txtai (the peer a user would pick) with the same model, corpus and questions,
in one run: per-question latency and hit@k.

- jaxabot: its own server (`jaxabot serve`, ONNX Runtime by default) over a temporary copy of
  corpus/, measured over HTTP: `GET /api/search` (retrieval, ranked passages) and `POST /api/ask`
  (the full answer). With `--backends onnx,torch` a second server with
  `JAXABOT_EMBED_BACKEND=torch` runs over the same index, at the same time.
- txtai (`pip install -e '.[bench]'`): `txtai.Embeddings` over jaxabot's own passages (section
  title + text, as jaxabot embeds them), the same converted model through sentence-transformers,
  the same "query: " / "passage: " prompts, queried in this process (no HTTP).
- plain sentence-transformers (torch fp32) encoding the same question: the issue's yardstick.

Questions: dev + held-out, without conversation history (txtai has none). A passage is a hit when
it contains one of the question's gold spans; hit@k over the answerable questions. Requests
alternate per question (txtai, ST, then each jaxabot call), so contention from other processes
affects all of them alike: compare the ratios within one run.
"""

from __future__ import annotations

import argparse
import json
import time

from bench.common import (
    QUESTION_FILES,
    CpuMeter,
    Server,
    fmt,
    header,
    machine,
    offline,
    pcts,
    save_results,
    table,
    workspace,
)

KS = (1, 3, 5)


def _questions() -> list[dict]:
    out = []
    for path in QUESTION_FILES:
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    d = json.loads(line)
                    if not d.get("history"):
                        out.append(d)
    return out


def _squash(text: str) -> str:
    return "".join(text.split())


def _hit_rank(texts: list[str], gold: list[str]) -> int | None:
    """1-based rank of the first text containing a gold span (whitespace ignored)."""
    golds = [_squash(g) for g in gold if g.strip()]
    for rank, t in enumerate(texts, 1):
        if any(g in _squash(t) for g in golds):
            return rank
    return None


def _hits(ranks: list[int | None]) -> dict[str, float]:
    n = max(1, len(ranks))
    return {f"hit@{k}": sum(1 for r in ranks if r is not None and r <= k) / n for k in KS}


def _txtai(model_path: str, passages: list[str]):
    from txtai import Embeddings

    emb = Embeddings(path=model_path, method="sentence-transformers", content=True, backend="faiss",
                     instructions={"query": "query: ", "data": "passage: "})
    t = time.perf_counter()
    emb.index([(i, text, None) for i, text in enumerate(passages)])
    return emb, time.perf_counter() - t


def run(args) -> dict:
    import httpx
    import torch
    from sentence_transformers import SentenceTransformer

    from bot.embed.convert.e5convert import ensure_converted
    from bot.settings import Settings, cpu_count
    from bot.store.index import load_index

    torch.set_num_threads(1)  # like one jaxabot worker; txtai and ST run on this thread count
    cores = cpu_count()  # ... and ST once more on all of them, its default
    questions = _questions()
    model_path = str(ensure_converted(Settings().model_cache_dir, onnx=False))
    info = machine()
    header("bench.peers — jaxabot (HTTP) vs txtai (in process), same model, corpus and questions", info)
    results: dict = {"machine": info, "backends": {}, "questions": len(questions)}

    with workspace("jaxabot-peers-") as ws:
        servers = []
        for backend in args.backends:
            env = {"JAXABOT_EMBED_BACKEND": backend, **dict(kv.split("=", 1) for kv in args.server_env)}
            servers.append((backend, Server(ws, extra_env=env, log_name=f"server-{backend}.log")))

        st = SentenceTransformer(model_path, device="cpu")
        records = {name: [] for name in ("txtai", "st_encode", "st_encode_all")}
        recs = {backend: {"search": [], "ask": []} for backend, _ in servers}
        marks = {}
        try:
            # The first server builds the index; the others start once it exists and load it. All
            # stay up, so each question goes to every server in turn (same moment, same contention).
            for backend, server in servers:
                server.start()
                marks[backend] = server.wait_first_answer()
                print(f"jaxabot ({backend}) first answer {marks[backend]['first_answer_s']:.1f} s after process start")
            index = load_index(ws.index)
            passages = [p.embed_text for p in index.passages]
            txtai_emb, txtai_build_s = _txtai(model_path, passages)
            print(f"txtai indexed {len(passages)} passages in {txtai_build_s:.2f} s")
            results["passages"] = len(passages)
            results["txtai_index_s"] = txtai_build_s
            clients = {backend: httpx.Client(base_url=server.base, timeout=60.0) for backend, server in servers}
            with CpuMeter(lambda: [server.pid for _, server in servers]) as meter:
                for _ in range(args.repeat):
                    for q in questions:
                        text, gold = q["question"], q.get("gold_spans") or []
                        t = time.perf_counter()
                        found = txtai_emb.search(text, max(KS))
                        records["txtai"].append(((time.perf_counter() - t) * 1000,
                                                 _hit_rank([r["text"] for r in found], gold), q))
                        t = time.perf_counter()
                        st.encode(["query: " + text], normalize_embeddings=True)
                        records["st_encode"].append(((time.perf_counter() - t) * 1000, None, q))
                        # The same encode as sentence-transformers runs by default: torch on every core.
                        torch.set_num_threads(cores)
                        t = time.perf_counter()
                        st.encode(["query: " + text], normalize_embeddings=True)
                        records["st_encode_all"].append(((time.perf_counter() - t) * 1000, None, q))
                        torch.set_num_threads(1)
                        for backend, client in clients.items():
                            t = time.perf_counter()
                            r = client.get("/api/search", params={"q": text, "k": max(KS)})
                            ms = (time.perf_counter() - t) * 1000
                            r.raise_for_status()
                            recs[backend]["search"].append(
                                (ms, _hit_rank([h["text"] for h in r.json()["hits"]], gold), q))
                            t = time.perf_counter()
                            r = client.post("/api/ask", json={"question": text})
                            ms = (time.perf_counter() - t) * 1000
                            r.raise_for_status()
                            recs[backend]["ask"].append((ms, None, q))
            for client in clients.values():
                client.close()
        finally:
            for _, server in servers:
                server.stop()
        print(meter.summary())
        for backend, _ in servers:
            results["backends"][backend] = {
                "first_answer_s": marks[backend]["first_answer_s"], "contention": meter.cores_others,
                **{k: _summary(v) for k, v in recs[backend].items()}}
        results["txtai"] = _summary(records["txtai"])
        results["st_encode"] = _summary(records["st_encode"])
        results["st_encode_all"] = _summary(records["st_encode_all"])
    return results


def _summary(recs: list) -> dict:
    ms = [r[0] for r in recs]
    answerable = [r[1] for r in recs if r[2].get("answerable", True) and r[2].get("gold_spans")]
    out = {"n": len(ms), **pcts(ms)}
    if any(r[1] is not None for r in recs) or answerable:
        out.update(_hits(answerable))
    return out


def report(res: dict) -> None:
    base = res["txtai"]["p50"]
    st = res["st_encode"]["p50"]
    rows = [["txtai `Embeddings.search` (in process)", res["txtai"]["n"], fmt(res["txtai"]["p50"], 2),
             fmt(res["txtai"]["p95"], 2), "1.00", fmt(res["txtai"]["p50"] / st, 2),
             *(fmt(res["txtai"].get(f"hit@{k}"), 3) for k in KS)],
            ["sentence-transformers encode of the question (torch fp32, 1 thread)", res["st_encode"]["n"], fmt(st, 2),
             fmt(res["st_encode"]["p95"], 2), fmt(st / base, 2), "1.00", "", "", ""]]
    if "st_encode_all" in res:  # results saved before this row existed lack it
        a = res["st_encode_all"]
        rows.append(["the same, torch on every core (its default)", a["n"], fmt(a["p50"], 2), fmt(a["p95"], 2),
                     fmt(a["p50"] / base, 2), fmt(a["p50"] / st, 2), "", "", ""])
    for backend, b in res["backends"].items():
        for kind, label in (("search", "GET /api/search"), ("ask", "POST /api/ask")):
            s = b[kind]
            rows.append([f"jaxabot {label} over HTTP ({backend})", s["n"], fmt(s["p50"], 2), fmt(s["p95"], 2),
                         fmt(s["p50"] / base, 2), fmt(s["p50"] / st, 2),
                         *((fmt(s.get(f"hit@{k}"), 3) for k in KS) if kind == "search" else ("", "", ""))])
    print()
    print(f"{res['questions']} questions without history × repeats; {res.get('passages')} passages")
    print(table(["", "requests", "p50 ms", "p95 ms", "p50 / txtai", "p50 / ST encode",
                 *(f"hit@{k}" for k in KS)], rows))
    if "st_encode_all" in res:
        for backend, b in res["backends"].items():
            print(f"- {backend}: /api/ask p50 / ST encode on every core = "
                  f"{b['ask']['p50'] / res['st_encode_all']['p50']:.2f}")
    for backend, b in res["backends"].items():
        print(f"- {backend}: first answer {b['first_answer_s']:.1f} s after start")
    print(f"- other processes used {b['contention']:.2f} of 2 cores during the measurements")


def main() -> None:
    offline()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backends", default="onnx,torch", type=lambda s: [x for x in s.split(",") if x],
                    help="jaxabot embedding backends to run, one server each (default onnx,torch)")
    ap.add_argument("--repeat", type=int, default=3, help="passes over the questions (default 3)")
    ap.add_argument("--quick", action="store_true", help="one pass, ONNX only")
    ap.add_argument("--server-env", action="append", default=[], metavar="KEY=VALUE")
    args = ap.parse_args()
    if args.quick:
        args.repeat, args.backends = 1, ["onnx"]
    res = run(args)
    report(res)
    print(f"\nraw results: {save_results('peers', res)}")


if __name__ == "__main__":
    main()
