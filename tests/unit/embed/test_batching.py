"""Query micro-batching (bot/embed/batching.py): concurrent callers share model calls, each gets its
own rows, errors reach every caller of the failing batch, cancelled callers are left out, closing
fails what waits. Fast tests use a fake whose calls can be held open, so batches form
deterministically (no sleeps, no timing); one real-model test checks batched = single vectors."""

import threading
from concurrent.futures import CancelledError

import numpy as np
import pytest
from fakes import FakeEmbedder

from bot.embed.batching import QueryBatcher
from bot.errors import ModelError

WAIT = 30  # seconds: only reached if something is broken


class HeldEmbedder(FakeEmbedder):
    """Records the texts of every call; a call blocks while `hold` is cleared, after telling
    `entered`, so the next callers queue up behind it."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[list[str]] = []
        self.hold = threading.Event()
        self.hold.set()
        self.entered = threading.Semaphore(0)

    def encode_queries(self, texts):
        self.batches.append(list(texts))
        self.entered.release()
        assert self.hold.wait(WAIT)
        if any("boom" in t for t in texts):
            raise RuntimeError("model failed on boom")
        return super().encode_queries(texts)


@pytest.fixture
def held():
    emb = HeldEmbedder()
    yield emb
    emb.hold.set()


def _block_first_call(batcher, held) -> object:
    """Submit one question and wait until the model is busy with it (and held)."""
    held.hold.clear()
    first = batcher.submit(["最初の質問"])
    assert held.entered.acquire(timeout=WAIT)
    return first


def test_waiting_questions_share_one_call_and_get_their_own_rows(held):
    b = QueryBatcher(held, max_texts=16)
    try:
        first = _block_first_call(b, held)
        jobs = [["JAXAはいつ設立されましたか？"], ["SAFEとは何ですか？", "APRSAFの目的は？"], ["What is SAFE?"]]
        futures = [b.submit(t) for t in jobs]
        held.hold.set()
        results = [f.result(WAIT) for f in futures]
        first.result(WAIT)
    finally:
        b.close()
    # The three callers that waited behind the first call went in one call, in arrival order.
    assert held.batches == [["最初の質問"], [t for j in jobs for t in j]]
    reference = FakeEmbedder()
    for texts, got in zip(jobs, results, strict=True):
        assert got.shape == (len(texts), held.dim)
        np.testing.assert_allclose(got, reference.encode_queries(texts))
    assert (b.calls, b.texts) == (2, 5)


def test_batches_are_bounded_and_a_large_caller_goes_alone(held):
    b = QueryBatcher(held, max_texts=2)
    try:
        first = _block_first_call(b, held)
        futures = [b.submit(["a"]), b.submit(["b"]), b.submit(["c", "d", "e"]), b.submit(["f"])]
        held.hold.set()
        for f in futures + [first]:
            f.result(WAIT)
    finally:
        b.close()
    assert held.batches[1:] == [["a", "b"], ["c", "d", "e"], ["f"]]


def test_a_failing_call_fails_every_caller_in_it_and_only_them(held):
    b = QueryBatcher(held)
    try:
        first = _block_first_call(b, held)
        bad = [b.submit(["boom"]), b.submit(["巻き添えの質問"])]
        held.hold.set()
        first.result(WAIT)
        for f in bad:
            with pytest.raises(RuntimeError, match="boom"):
                f.result(WAIT)
        # The runner survives: the next question is answered.
        assert b.encode_queries(["次の質問"]).shape == (1, held.dim)
    finally:
        b.close()


def test_a_cancelled_caller_is_left_out_of_its_batch(held):
    b = QueryBatcher(held)
    try:
        first = _block_first_call(b, held)
        gone, kept = b.submit(["去った人の質問"]), b.submit(["残った人の質問"])
        assert gone.cancel()
        held.hold.set()
        first.result(WAIT)
        assert kept.result(WAIT).shape == (1, held.dim)
        with pytest.raises(CancelledError):
            gone.result(0)
    finally:
        b.close()
    assert held.batches == [["最初の質問"], ["残った人の質問"]]


def test_closing_fails_waiting_callers_and_refuses_new_ones(held):
    b = QueryBatcher(held)
    first = _block_first_call(b, held)
    waiting = b.submit(["待っている質問"])
    closer = threading.Thread(target=b.close)
    closer.start()
    with pytest.raises(ModelError):
        waiting.result(WAIT)
    held.hold.set()  # the call in progress still finishes
    assert first.result(WAIT).shape == (1, held.dim)
    closer.join(WAIT)
    with pytest.raises(ModelError):
        b.submit(["遅れた質問"])


def test_passages_and_empty_queries_bypass_the_queue(held):
    b = QueryBatcher(held)
    try:
        assert b.encode_queries([]).shape == (0, held.dim)
        assert b.encode_passages(["passage one", "passage two"]).shape == (2, held.dim)
        assert held.batches == [] and held.calls == [2]
        assert (b.name, b.dim) == (held.name, held.dim)
    finally:
        b.close()


def test_many_threads_get_their_own_vectors():
    emb = FakeEmbedder()
    b = QueryBatcher(emb, max_texts=8, runners=2)
    questions = [f"質問その{i}はどこですか" for i in range(64)]
    got: dict[int, np.ndarray] = {}

    def ask(i: int) -> None:
        got[i] = b.encode_queries([questions[i]])[0]

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(64)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(WAIT)
    finally:
        b.close()
    assert len(got) == 64
    for i, q in enumerate(questions):
        np.testing.assert_allclose(got[i], FakeEmbedder().encode_queries([q])[0])
    assert b.texts == 64 and all(n <= 8 for n in emb.calls)


def test_the_server_batches_queries_and_answers_each_question(fake_app_factory):
    """With batching on (the default), every /api/ask goes through the runtime's batcher."""
    client = fake_app_factory(embed_batch=16, workers=4)
    batcher = client.app.state.runtime.batcher
    assert batcher is not None and client.app.state.runtime.engine.embedder is batcher
    questions = ["SAFEは何年に設立されましたか？", "APRSAFとは何ですか？", "What is SAFE?"]
    answers = {}

    def ask(q: str) -> None:
        answers[q] = client.post("/api/ask", json={"question": q})

    threads = [threading.Thread(target=ask, args=(q,)) for q in questions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
    assert all(r.status_code == 200 for r in answers.values())
    assert batcher.texts >= len(questions)
    # The same answers as without batching.
    plain = fake_app_factory(embed_batch=0, workers=4)
    assert plain.app.state.runtime.batcher is None
    for q, r in answers.items():
        assert plain.post("/api/ask", json={"question": q}).json()["answer"] == r.json()["answer"]


@pytest.mark.slow
def test_real_batched_queries_match_single_ones(real_embedder):
    """One ONNX call for several queries of different lengths (padding) gives each the vector
    it gets alone."""
    questions = ["SAFEは何年に設立されましたか？", "What is the purpose of the Asia-Pacific Regional Space "
                 "Agency Forum and who takes part in it?", "JAXAの本部はどこ？", "衛星データの利用を進める国際的な"
                 "取り組みにはどのようなものがあり、日本はどのように関わっていますか？"]
    gate = threading.Event()
    entered = threading.Event()

    class Gated:
        name, dim = real_embedder.name, real_embedder.dim
        sizes: list[int] = []

        def encode_queries(self, texts):
            self.sizes.append(len(texts))
            entered.set()
            assert gate.wait(WAIT)
            return real_embedder.encode_queries(texts)

    gated = Gated()
    b = QueryBatcher(gated, max_texts=16)
    try:
        first = b.submit(["最初の質問"])
        assert entered.wait(WAIT)
        futures = [b.submit([q]) for q in questions]
        gate.set()
        batched = np.concatenate([f.result(WAIT) for f in futures])
        first.result(WAIT)
    finally:
        b.close()
    assert gated.sizes == [1, len(questions)]
    alone = np.concatenate([real_embedder.encode_queries([q]) for q in questions])
    assert np.abs(batched - alone).max() < 1e-4
    assert ((batched * alone).sum(1) > 0.9999).all()


def test_unset_serving_sizes_follow_the_precision_questions_really_have():
    """Sizes left unset are chosen for int8 questions with the default model; if the model then
    embeds them in fp32 (no int8 graph), `sized_for` gives fp32's sizes, keeping explicit ones."""
    from bot.settings import DEFAULT_MODEL, Settings, cpu_count

    s = Settings(model=DEFAULT_MODEL, workers=None, embed_batch=None)
    assert s.expects_int8_questions and (s.workers, s.embed_batch) == (cpu_count(), 0)
    fp32 = s.sized_for(False)
    assert (fp32.workers, fp32.embed_batch) == (8, 16) and (s.workers, s.embed_batch) == (cpu_count(), 0)
    mixed = Settings(model=DEFAULT_MODEL, workers=3, embed_batch=None).sized_for(False)
    assert (mixed.workers, mixed.embed_batch) == (3, 16)
    assert Settings(model="fake", workers=None, embed_batch=None).sized_for(True).workers == cpu_count()


@pytest.mark.parametrize("explicit", [False, True])
def test_the_server_sizes_itself_for_the_precision_the_model_has(tmp_path, fake_seed_index, tokenizer, explicit):
    """Settings for the default model expect int8 questions (workers = cores, no batching). A model
    that embeds them in fp32 (the fake, like an int8 graph that could not be made) gets fp32's
    sizes: 8 workers and a batcher with enough calls to use every core, and answers. Sizes set
    explicitly are kept."""
    import shutil

    from fastapi.testclient import TestClient
    from web_helpers import SEED_CORPUS, make_settings, wait_ready

    from bot.settings import DEFAULT_MODEL, cpu_count
    from web.app import create_app

    index_dir = tmp_path / "index"
    shutil.copytree(fake_seed_index, index_dir)
    sizes = dict(workers=2, embed_batch=0) if explicit else dict(workers=None, embed_batch=None)
    settings = make_settings(SEED_CORPUS, index_dir, model=DEFAULT_MODEL, **sizes)
    app = create_app(settings, embedder=FakeEmbedder(), tokenizer=tokenizer)
    with TestClient(app, raise_server_exceptions=False) as client:
        runtime = app.state.runtime
        wait_ready(runtime)
        if explicit:
            assert runtime.questions.workers == 2 and runtime.batcher is None
        else:
            assert runtime.questions.workers == 8 and runtime.settings.embed_batch == 16
            assert runtime.batcher is not None and len(runtime.batcher._runners) == cpu_count()
            assert "jaxabot_workers 8.0" in client.get("/metrics").text
        r = client.post("/api/ask", json={"question": "SAFEは何年に設立されましたか？"})
        assert r.status_code == 200 and r.json()["answer"]
        assert (runtime.batcher is not None) == (not explicit) and (explicit or runtime.batcher.texts >= 1)
