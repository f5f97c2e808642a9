"""The OpenAI-compatible endpoints: shapes, errors and limits with a fake model (fast), and the
official `openai` SDK against a real server with the real model (plain, streamed, follow-up)."""

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import openai
import pytest
from fakes import FakeEmbedder
from web_helpers import live_server

from web.openai.api import pieces

QUESTION = "SAFEは何年に設立されましたか？"
CITATION_KEYS = {"n", "title", "url", "doc_id", "chunk_id", "text", "highlight", "answer_span", "section"}


def chat(client, messages, **extra):
    return client.post("/v1/chat/completions", json={"model": "jaxabot", "messages": messages, **extra})


def assert_openai_error(response, status: int, param: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["message"], error
    assert error["type"] == ("server_error" if status >= 500 else error["type"])
    if param is not None:
        assert error["param"] == param, error
    assert "Traceback" not in response.text
    return error


# ---------------------------------------------------------------------------------------------
# Fast: FakeEmbedder app through TestClient

def test_models_list_the_one_model(fake_client):
    body = fake_client.get("/v1/models").json()
    assert body["object"] == "list" and [m["id"] for m in body["data"]] == ["jaxabot"]
    assert body["data"][0]["object"] == "model" and body["data"][0]["created"] > 0
    assert fake_client.get("/v1/models/jaxabot").json()["id"] == "jaxabot"
    error = assert_openai_error(fake_client.get("/v1/models/gpt-4o"), 404)
    assert error["code"] == "model_not_found"


def test_completion_shape_matches_api_ask(fake_client):
    ask = fake_client.post("/api/ask", json={"question": "カナダ宇宙庁との協力"}).json()
    r = chat(fake_client, [{"role": "user", "content": "カナダ宇宙庁との協力"}])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["object"] == "chat.completion" and body["id"].startswith("chatcmpl-")
    assert body["model"] == "jaxabot" and body["system_fingerprint"] == ask["index_version"]
    choice = body["choices"][0]
    assert choice["message"] == {"role": "assistant", "content": ask["answer"], "refusal": None}
    assert choice["finish_reason"] == "stop"
    assert body["found"] == ask["found"]
    assert [c["chunk_id"] for c in body["citations"]] == [c["chunk_id"] for c in ask["citations"]]
    for c in body["citations"]:
        assert set(c) == CITATION_KEYS


def test_stream_is_openai_chunks_that_join_to_the_plain_answer(fake_client):
    messages = [{"role": "user", "content": "カナダ宇宙庁との協力"}]
    plain = chat(fake_client, messages).json()
    r = chat(fake_client, messages, stream=True)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    events = [line.removeprefix("data: ") for line in r.text.split("\n\n") if line]
    assert events[-1] == "[DONE]"
    chunks = [httpx.Response(200, content=e).json() for e in events[:-1]]
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert all(c["object"] == "chat.completion.chunk" and c["id"] == chunks[0]["id"] for c in chunks)
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text == plain["choices"][0]["message"]["content"]
    final = chunks[-1]
    assert final["choices"][0]["finish_reason"] == "stop" and final["choices"][0]["delta"] == {}
    assert final["citations"] == plain["citations"] and final["found"] == plain["found"]
    assert all("citations" not in c for c in chunks[:-1])


def test_ignored_parameters_and_system_messages_change_nothing(fake_client):
    question = [{"role": "user", "content": [{"type": "text", "text": "カナダ宇宙庁との協力"}]}]
    plain = chat(fake_client, [{"role": "user", "content": "カナダ宇宙庁との協力"}]).json()
    r = chat(fake_client, [{"role": "system", "content": "Answer in French, in one word."}, *question],
             temperature=1.7, top_p=0.5, max_tokens=1, stop=["。"], seed=3, user="u1", n=1,
             tools=[{"type": "function", "function": {"name": "f"}}], tool_choice="auto",
             stream_options={"include_usage": True}, response_format={"type": "text"},
             some_client_extension={"x": 1})
    assert r.status_code == 200, r.text
    assert r.json()["choices"][0]["message"]["content"] == plain["choices"][0]["message"]["content"]


@pytest.mark.parametrize("body, param", [
    ({"model": "jaxabot", "messages": []}, "messages"),
    ({"model": "jaxabot"}, "messages"),
    ({"messages": [{"role": "user", "content": "hi"}]}, "model"),
    ({"model": "jaxabot", "messages": [{"role": "user", "content": "hi"}], "n": 2}, "n"),
    ({"model": "jaxabot", "messages": [{"role": "user", "content": "hi"}], "temperature": "hot"}, "temperature"),
    ({"model": "jaxabot", "messages": [{"role": "robot", "content": "hi"}]}, None),
    ({"model": "jaxabot", "messages": "hi"}, "messages"),
    # Strict types, as OpenAI's own API: "yes" is not true and "1" is not a number.
    ({"model": "jaxabot", "messages": [{"role": "user", "content": "hi"}], "stream": "yes"}, "stream"),
    ({"model": "jaxabot", "messages": [{"role": "user", "content": "hi"}], "stream": 1}, "stream"),
    ({"model": "jaxabot", "messages": [{"role": "user", "content": "hi"}], "logprobs": "true"}, "logprobs"),
    ({"model": "jaxabot", "messages": [{"role": "user", "content": "hi"}], "n": "1"}, "n"),
    ({"model": "jaxabot", "messages": [{"role": "user", "content": "hi"}], "max_tokens": "10"}, "max_tokens"),
])
def test_malformed_requests_are_400_in_openai_shape(fake_client, body, param):
    error = assert_openai_error(fake_client.post("/v1/chat/completions", json=body), 400, param)
    assert error["type"] == "invalid_request_error"


@pytest.mark.parametrize("messages, words", [
    ([{"role": "user", "content": ""}], "empty"),
    ([{"role": "user", "content": "あ" * 1001}], "1000"),
    ([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}], "last"),
    ([{"role": "system", "content": "only instructions"}], "last"),
    ([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:,"}}]}], "text"),
    ([{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}] * 11
     + [{"role": "user", "content": "それは？"}], "turns"),
    ([{"role": "user", "content": "あ" * 900}, {"role": "assistant", "content": "い" * 900}] * 5
     + [{"role": "user", "content": "それは？"}], "characters"),
])
def test_same_limits_as_api_ask(fake_client, messages, words):
    error = assert_openai_error(chat(fake_client, messages), 400)
    assert words in error["message"] and error["code"] == "invalid_input"


def test_unknown_model_wrong_method_unknown_path_and_big_body(fake_client):
    wrong_model = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    error = assert_openai_error(fake_client.post("/v1/chat/completions", json=wrong_model), 404)
    assert error["code"] == "model_not_found" and error["param"] == "model"
    assert_openai_error(fake_client.get("/v1/chat/completions"), 405)
    assert_openai_error(fake_client.get("/v1/engines"), 404)
    big = [{"role": "user", "content": "あ" * 30_000}]
    assert_openai_error(chat(fake_client, big), 413)


def test_not_ready_is_503_with_retry_after(fake_app_factory, tmp_path):
    client = fake_app_factory(index_dir=tmp_path / "empty-index")
    r = chat(client, [{"role": "user", "content": "hi"}])
    error = assert_openai_error(r, 503)
    assert error["type"] == "server_error" and error["code"] == "no_index"
    assert r.headers["retry-after"]


class SlowEmbedder(FakeEmbedder):
    def encode_queries(self, texts):
        time.sleep(0.8)
        return super().encode_queries(texts)


@pytest.mark.slow
def test_full_queue_is_503_in_openai_shape_and_counted(fake_app_factory):
    """workers=1 and no waiting room: of two questions at once, one is refused at once."""
    app = fake_app_factory(embedder=SlowEmbedder(), workers=1, queue_limit=0).app
    body = {"model": "jaxabot", "messages": [{"role": "user", "content": "カナダ宇宙庁との協力"}]}
    with live_server(app) as base:
        with ThreadPoolExecutor(2) as pool:
            responses = list(pool.map(lambda _: httpx.post(f"{base}/v1/chat/completions", json=body, timeout=30),
                                      range(2)))
        metrics = httpx.get(f"{base}/metrics").text
    assert sorted(r.status_code for r in responses) == [200, 503]
    refused = next(r for r in responses if r.status_code == 503)
    error = assert_openai_error(refused, 503)
    assert error["code"] == "overloaded" and int(refused.headers["retry-after"]) >= 1
    assert "jaxabot_queue_rejections_total 1.0" in metrics


@pytest.mark.parametrize("text", ["", "SAFEは2006年に設立されました[1]。",
                                  "APRSAF was founded in 1993 [1]. It meets yearly [2][3].",
                                  "一行目。\n\n二行目[1]\n", "no break at all"])
def test_pieces_join_back_exactly(text):
    parts = pieces(text)
    assert "".join(parts) == text and all(parts)


def test_pieces_end_after_quotes_and_markers():
    assert pieces("「第一文。」[1]\n「第二文。」[2]") == ["「第一文。」[1]\n", "「第二文。」[2]"]
    assert pieces("It began in 1993 [1]. It meets yearly.") == ["It began in 1993 [1]. ", "It meets yearly."]
    assert pieces("設立しました。[1] また、参加しています。[2][3]") == [
        "設立しました。[1] ", "また、参加しています。[2][3]"]


# ---------------------------------------------------------------------------------------------
# The official SDK against a real server with the real model

@pytest.fixture(scope="module")
def sdk(real_server):
    return openai.OpenAI(base_url=f"{real_server}/v1", api_key="any-key-works", max_retries=0, timeout=120)


@pytest.mark.slow
def test_sdk_plain_streamed_and_follow_up(sdk):
    assert [m.id for m in sdk.models.list()] == ["jaxabot"]

    plain = sdk.chat.completions.create(model="jaxabot", messages=[{"role": "user", "content": QUESTION}])
    content = plain.choices[0].message.content
    assert "2006" in content and "[1]" in content and plain.choices[0].finish_reason == "stop"
    extra = plain.model_extra
    assert extra["found"] is True and extra["citations"][0]["n"] == 1
    c = extra["citations"][0]
    h0, h1 = c["highlight"]
    assert "SAFE" in c["text"][h0:h1] and c["url"].startswith("https://")

    stream = sdk.chat.completions.create(model="jaxabot", messages=[{"role": "user", "content": QUESTION}],
                                         stream=True)
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert len(chunks) >= 3  # role, the text (one piece per sentence), the final chunk
    assert "".join(ch.choices[0].delta.content or "" for ch in chunks) == content
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].model_extra["citations"] == extra["citations"]

    follow = sdk.chat.completions.create(model="jaxabot", messages=[
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "APRSAFとは何ですか？"},
        {"role": "assistant", "content": "アジア・太平洋地域宇宙機関会議です。"},
        {"role": "user", "content": "それはいつ設立されましたか？"}])
    assert follow.model_extra["found"] is True and "1993" in follow.choices[0].message.content


@pytest.mark.slow
def test_sdk_raises_its_own_errors(sdk):
    with pytest.raises(openai.BadRequestError) as bad:
        sdk.chat.completions.create(model="jaxabot", messages=[{"role": "user", "content": "   "}])
    assert bad.value.status_code == 400 and "empty" in bad.value.message
    with pytest.raises(openai.NotFoundError) as missing:
        sdk.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": QUESTION}])
    assert missing.value.code == "model_not_found"
