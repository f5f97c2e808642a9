"""Can int8 questions share a model call without changing any question's vector? A measurement.

The shipped int8 question graph (bot/embed/convert/quantize.py) quantises each product's input with one
range per call (ONNX Runtime's DynamicQuantizeLinear): alone, that range is the question's own;
in a batch it would be the batch's, so questions run one per call and micro-batching is off.
This script rewrites that graph so that the range is taken **per question, over its
real tokens only** (padding masked out): the same range, zero point and int8 values as when the
question runs alone, the same integer products (the per-question zero point is taken out of the
int32 sums, as MatMulInteger takes one zero point per call), the same scales. It then prints

- how far the rewritten graph's vectors are from the shipped graph's, alone and in padded
  batches of mixed questions (they should agree to float rounding);
- CPU milliseconds per question, one thread, for the shipped graph one per call and the
  rewritten one at 1, 2, 3, 4, 8 and 16 per call (length-banded batches, as the embedder makes
  them) and at 3, 4 and 8 per call in arrival order (no bands).

Nothing here is used by the server: at three or more questions per length band the rewrite saves
CPU, but a 2-core server at 16 clients has a few questions of mixed lengths waiting at a time, and
wired in (lone questions on the shipped graph, batches on this one) it served no more requests
per second (docs/results.md, "int8 questions").

    .venv/bin/python -m bench.batch_int8 [--questions 400] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from bench.common import ROOT, header, machine, offline
from bot.errors import ModelError

offline()


def _const(name: str, value):
    from onnx import numpy_helper
    return numpy_helper.from_array(np.asarray(value), name)


def rewrite(q8_graph: Path):
    """The int8 graph at `q8_graph` (an ONNX ModelProto, its weights left in their data file) with
    every DynamicQuantizeLinear made per question, its MatMulInteger and scale consumers fixed up."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(q8_graph), load_external_data=False)
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    base = str(Path(q8_graph).parent)

    def weight(name: str) -> np.ndarray:
        return numpy_helper.to_array(inits[name], base_dir=base)

    consumers: dict[str, list] = {}
    for n in g.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    mask_input = next((i.name for i in g.input if "mask" in i.name), None)
    if mask_input is None:
        raise ModelError(f"{q8_graph} has no attention-mask input")
    extra = [_const("pq/zero", np.float32(0.0)), _const("pq/255", np.float32(255.0)),
             _const("pq/axes2", np.array([2], dtype=np.int64)), _const("pq/flat", np.array([-1], dtype=np.int64))]
    head = [helper.make_node("Cast", [mask_input], ["pq/maskf"], to=TensorProto.FLOAT, name="pq/mask_cast"),
            helper.make_node("Unsqueeze", ["pq/maskf", "pq/axes2"], ["pq/mask3"], name="pq/mask_unsqueeze")]
    replacing: dict[str, list] = {}  # DynamicQuantizeLinear name → the nodes that take its place
    following: dict[str, list] = {}  # MatMulInteger name → its zero-point correction
    k = 0
    for n in g.node:
        if n.op_type != "DynamicQuantizeLinear":
            continue
        k += 1
        x, (xq, xs, xzp) = n.input[0], n.output
        p = f"pq/{k}/"
        # DynamicQuantizeLinear's own arithmetic, per question: the range always holds 0,
        # scale = range / 255, zero point = round(clip(-min / scale, 0, 255)). Padded tokens are
        # multiplied by 0, which the range holds anyway, so they never widen it.
        replacing[n.name] = [
            helper.make_node("Mul", [x, "pq/mask3"], [p + "xm"]),
            helper.make_node("ReduceMax", [p + "xm"], [p + "rmax"], axes=[1, 2], keepdims=1),
            helper.make_node("ReduceMin", [p + "xm"], [p + "rmin"], axes=[1, 2], keepdims=1),
            helper.make_node("Max", [p + "rmax", "pq/zero"], [p + "qmax"]),
            helper.make_node("Min", [p + "rmin", "pq/zero"], [p + "qmin"]),
            helper.make_node("Sub", [p + "qmax", p + "qmin"], [p + "range"]),
            helper.make_node("Div", [p + "range", "pq/255"], [p + "scale3"]),
            helper.make_node("Neg", [p + "qmin"], [p + "nqmin"]),
            helper.make_node("Div", [p + "nqmin", p + "scale3"], [p + "zpf0"]),
            helper.make_node("Clip", [p + "zpf0", "pq/zero", "pq/255"], [p + "zpf1"]),
            helper.make_node("Round", [p + "zpf1"], [p + "zpf"]),
            helper.make_node("Cast", [p + "zpf"], [p + "zp3"], to=TensorProto.UINT8),
            helper.make_node("Cast", [p + "zpf"], [p + "zp3i"], to=TensorProto.INT32),
            helper.make_node("Reshape", [p + "scale3", "pq/flat"], [p + "scale1"]),
            helper.make_node("Reshape", [p + "zp3", "pq/flat"], [p + "zp1"]),
            helper.make_node("QuantizeLinear", [x, p + "scale1", p + "zp1"], [xq], axis=0),
        ]
        for c in consumers.get(xzp, []):  # MatMulInteger(xq, wq, xzp, wzp)
            if c.op_type != "MatMulInteger" or c.input[2] != xzp:
                raise ModelError(f"{c.name}: a {c.op_type} takes a quantiser's zero point")
            wq, wzp = c.input[1], c.input[3] if len(c.input) > 3 else ""
            if wzp and weight(wzp).any():
                raise ModelError(f"{c.name}: weights with a non-zero zero point")
            colsum = f"{c.name}/pq_colsum"
            extra.append(_const(colsum, weight(wq).astype(np.int32).sum(axis=0).astype(np.int32)))
            out = c.output[0]
            raw = out + "/pq_raw"
            del c.input[2:]
            c.input.extend(["", wzp] if wzp else [])
            c.output[0] = raw
            following[c.name] = [helper.make_node("Mul", [p + "zp3i", colsum], [raw + "_zpcol"]),
                                 helper.make_node("Sub", [raw, raw + "_zpcol"], [out])]
        for c in consumers.get(xs, []):  # Mul(x_scale, w_scale): now [B,1,1] × [M] = [B,1,M]
            for j, name in enumerate(c.input):
                if name == xs:
                    c.input[j] = p + "scale3"
    if not k:
        raise ModelError(f"{q8_graph} has no dynamic quantisers to rewrite")
    order = head[:]
    for n in g.node:
        order.extend(replacing.get(n.name) or [n])
        order.extend(following.get(n.name, []))
    del g.node[:]
    g.node.extend(order)
    g.initializer.extend(extra)
    return model


def _questions(n: int) -> list[str]:
    from bench.common import load_questions
    out = [q.question for q in load_questions()]
    en = ROOT / "bench" / "data" / "jsquad_en.jsonl"
    if en.exists():
        out += [json.loads(line)["question"] for line in en.read_text(encoding="utf-8").splitlines() if line.strip()]
    return out[:n]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", type=int, default=400)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()

    import onnx

    from bot.embed.base import QUERY_PROMPT
    from bot.embed.convert.quantize import Q8_DIR, Q8_FILE
    from bot.embed.embedder import resolve_model_path
    from bot.embed.onnx_embedder import OnnxEmbedder, length_batches
    from bot.settings import DEFAULT_MODEL, Settings

    info = machine()
    header("bench.batch_int8", info)
    folder = Path(resolve_model_path(DEFAULT_MODEL, Settings().model_cache_dir, onnx=True))
    shipped_path = folder / Q8_DIR / Q8_FILE
    # The server's embedder, one thread: its tokenizer, padding and session options.
    emb = OnnxEmbedder(DEFAULT_MODEL, folder, 1, query_graph=shipped_path)
    texts = _questions(args.questions)
    rows = [e.ids for e in emb.tokenizer.encode_batch([QUERY_PROMPT + t for t in texts])]
    print(f"{len(texts)} questions (dev + held-out + English JSQuAD), {min(map(len, rows))}–"
          f"{max(map(len, rows))} tokens\n")
    t = time.perf_counter()
    model = rewrite(shipped_path)
    # Beside the shipped graph, so that its weights stay references to the shipped data file
    # (ONNX Runtime maps that file: a second session costs ~5 MB, not another 400).
    rewritten_path = shipped_path.with_name(f".bench-per-question-{os.getpid()}.onnx")
    try:
        onnx.save_model(model, str(rewritten_path))
        print(f"rewritten in {time.perf_counter() - t:.1f} s: {len(model.graph.node)} nodes\n")
        shipped, rewritten = emb.query_session, emb._open(rewritten_path)
    finally:
        rewritten_path.unlink(missing_ok=True)
    alone = np.concatenate([emb._run(shipped, [r]) for r in rows])
    alone_new = np.concatenate([emb._run(rewritten, [r]) for r in rows])
    rng = np.random.default_rng(0)
    perm = rng.permutation(len(rows))
    mixed = np.empty_like(alone)
    for k in range(0, len(perm), 8):  # mixed lengths: the most padding
        idx = perm[k:k + 8]
        mixed[idx] = emb._run(rewritten, [rows[i] for i in idx])
    for name, vecs in (("rewritten, one per call", alone_new), ("rewritten, batches of 8 mixed lengths", mixed)):
        cos = np.sum(vecs * alone, axis=1) / np.linalg.norm(vecs, axis=1) / np.linalg.norm(alone, axis=1)
        print(f"{name} vs shipped one per call: max |Δ| {np.abs(vecs - alone).max():.2e}, "
              f"min cosine {cos.min():.7f}")
    print()
    lengths = [len(r) for r in rows]
    plans = {"shipped, 1 per call": (shipped, [[i] for i in range(len(rows))])}
    for b in (1, 2, 3, 4, 8, 16):
        plans[f"rewritten, ≤ {b} per call"] = (rewritten, length_batches(lengths, max_texts=b))
    for b in (3, 4, 8):  # as they arrive: no length bands, more padding, fewer calls
        plans[f"rewritten, {b} per call in arrival order"] = (
            rewritten, [list(perm[k:k + b]) for k in range(0, len(perm), b)])
    cpu: dict[str, list[float]] = {k: [] for k in plans}
    for _ in range(args.rounds):
        for name, (session, batches) in plans.items():
            t = time.process_time()
            for batch in batches:
                emb._run(session, [rows[i] for i in batch])
            cpu[name].append((time.process_time() - t) * 1000 / len(rows))
    base = float(np.median(cpu["shipped, 1 per call"]))
    print("| graph, questions per call | CPU ms per question (median of rounds) | × shipped | rounds |")
    print("|---|---|---|---|")
    for name, xs in cpu.items():
        m = float(np.median(xs))
        print(f"| {name} | {m:.2f} | {m / base:.2f} | {' / '.join(f'{x:.2f}' for x in xs)} |")


if __name__ == "__main__":
    main()
