"""The MCP server through the official SDK's own client: over stdio (`jaxabot mcp` as a
subprocess) and over streamable HTTP (/mcp on a real uvicorn server), with the real model."""

import os
import sys
from pathlib import Path

import anyio
import pytest
from fakes import FakeEmbedder
from mcp import Client, StdioServerParameters
from paths import ROOT, SUPPORT
from web_helpers import SEED_CORPUS, live_server, make_settings

JAXABOT = str(Path(sys.executable).with_name("jaxabot"))
DOC_ID = "jaxa-international-cooperation"


def run(coro_fn, *args):
    return anyio.run(coro_fn, *args)


async def _tools(client: Client) -> dict:
    return {t.name: t for t in (await client.list_tools()).tools}


def check_tool_list(tools: dict) -> None:
    assert set(tools) == {"ask", "search", "get_document"}
    for tool in tools.values():
        assert len(tool.description) > 80, tool.name  # a real description, not the name again
        assert tool.output_schema is not None and tool.annotations.read_only_hint
    ask = tools["ask"].input_schema
    assert ask["required"] == ["question"] and set(ask["properties"]) == {"question", "history"}
    assert tools["search"].input_schema["required"] == ["query"]
    assert tools["search"].input_schema["properties"]["k"]["maximum"] == 10
    assert tools["get_document"].input_schema["required"] == ["doc_id"]


# ---------------------------------------------------------------------------------------------
# stdio: the command an MCP client starts

@pytest.mark.slow
def test_stdio_server_answers_with_citations(seed_index_dir, model_cache_dir):
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAXABOT_")}
    env.update(HF_HUB_OFFLINE="1", JAXABOT_MODEL_CACHE_DIR=str(model_cache_dir))
    params = StdioServerParameters(command=JAXABOT, args=["mcp", "--index", str(seed_index_dir)], env=env)

    async def session():
        async with Client(params, read_timeout_seconds=180) as client:
            check_tool_list(await _tools(client))
            result = await client.call_tool("ask", {"question": "SAFEは何年に設立されましたか？"})
            assert not result.is_error
            answer = result.structured_content
            assert answer["found"] is True and "2006" in answer["answer"]
            c = answer["citations"][0]
            assert c["n"] == 1 and c["doc_id"] == DOC_ID and "SAFE" in c["text"][c["highlight"][0]:c["highlight"][1]]
            assert "2006" in result.content[0].text and "[1]" in result.content[0].text

            hits = (await client.call_tool("search", {"query": "カナダ宇宙庁", "k": 3})).structured_content
            assert [h["rank"] for h in hits["hits"]] == [1, 2, 3] and "カナダ" in hits["hits"][0]["text"]

            missing = await client.call_tool("get_document", {"doc_id": "no/such/doc"})
            assert missing.is_error and "no document" in missing.content[0].text
            bad = await client.call_tool("ask", {"question": "   "})
            assert bad.is_error and "empty" in bad.content[0].text

    run(session)


def test_stdio_without_an_index_fails_with_a_clear_message(tmp_path, model_cache_dir):
    import subprocess
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAXABOT_")}
    env.update(HF_HUB_OFFLINE="1", JAXABOT_MODEL_CACHE_DIR=str(model_cache_dir))
    proc = subprocess.run([JAXABOT, "mcp", "--index", str(tmp_path / "none")], env=env, input="",
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1 and proc.stdout == ""
    assert "no index" in proc.stderr.lower() and "Traceback" not in proc.stderr


# ---------------------------------------------------------------------------------------------
# streamable HTTP: /mcp on the web server

@pytest.mark.slow
@pytest.mark.parametrize("mode", ["auto", "legacy"])
def test_http_server_answers_follow_ups_and_reads_documents(real_server, mode):
    async def session():
        async with Client(f"{real_server}/mcp", mode=mode, read_timeout_seconds=120) as client:
            check_tool_list(await _tools(client))
            history = [{"role": "user", "content": "APRSAFとは何ですか？"},
                       {"role": "assistant", "content": "アジア・太平洋地域宇宙機関会議です。"}]
            result = await client.call_tool("ask", {"question": "それはいつ設立されましたか？",
                                                    "history": history})
            assert not result.is_error and result.structured_content["found"] is True
            assert "1993" in result.structured_content["answer"]

            doc = (await client.call_tool("get_document", {"doc_id": DOC_ID})).structured_content
            assert doc["title"] == "国際的な取り組みと貢献" and doc["url"].startswith("https://")
            assert doc["passages"] and len(doc["text"]) > 500

            too_many = await client.call_tool("search", {"query": "JAXA", "k": 50})
            assert too_many.is_error

    run(session)


def test_http_with_a_fake_model_answers_and_reports_tool_errors(fake_seed_index, tmp_path, tokenizer):
    import shutil

    from web.app import create_app
    index = tmp_path / "index"
    shutil.copytree(fake_seed_index, index)
    app = create_app(make_settings(SEED_CORPUS, index, model="fake-bigram"),
                     embedder=FakeEmbedder(), tokenizer=tokenizer)

    async def session(base):
        async with Client(f"{base}/mcp") as client:
            check_tool_list(await _tools(client))
            ok = await client.call_tool("search", {"query": "カナダ宇宙庁", "k": 2})
            assert not ok.is_error and len(ok.structured_content["hits"]) == 2
            missing = await client.call_tool("get_document", {"doc_id": "../etc/passwd"})
            assert missing.is_error and "no document" in missing.content[0].text
            long = await client.call_tool("ask", {"question": "あ" * 1001})
            assert long.is_error

    with live_server(app) as base:
        run(session, base)


def test_tools_translate_domain_errors_without_internal_detail():
    from mcp.server.mcpserver.exceptions import ToolError

    from bot.errors import IndexCorrupt
    from web.exceptions import NotReady
    from web.mcp.server import Tools
    from web.server.workqueue import QuestionQueue

    def corrupt():
        raise IndexCorrupt("/srv/secret/index/v1/vectors.npy: bad checksum")

    def loading():
        raise NotReady("the model and index are still loading; try again in a few seconds")

    async def call(engine):
        with pytest.raises(ToolError) as err:
            await Tools(engine, QuestionQueue(workers=1, limit=0)).ask("SAFEとは？")
        return str(err.value)

    assert run(call, corrupt) == "the index cannot be read; rebuild it"
    assert "still loading" in run(call, loading)


def test_tools_wait_in_the_question_queue_and_a_full_one_is_a_tool_error(fake_seed_index, tokenizer, models):
    """The tools run through the same bounded queue as /api/ask (over stdio too): a call beyond
    its waiting room is refused at once, saying when to try again, and nothing is computed."""
    from mcp.server.mcpserver.exceptions import ToolError

    from bot.engine import Engine
    from web.mcp.server import Tools
    from web.server.workqueue import QuestionQueue

    engine = Engine.load(fake_seed_index, FakeEmbedder(), tokenizer, models=models)
    queue = QuestionQueue(workers=1, limit=0)
    tools = Tools(lambda: engine, queue)

    async def main():
        async with anyio.create_task_group() as tg:
            started, release = anyio.Event(), anyio.Event()

            async def hold():
                await queue.run(lambda: anyio.from_thread.run(_block, started, release), _never)

            tg.start_soon(hold)
            await started.wait()
            with pytest.raises(ToolError) as err:
                await tools.ask("SAFEは何年に設立されましたか？")
            release.set()
        ok = await tools.search("カナダ宇宙庁", 2)
        return str(err.value), ok

    message, ok = run(main)
    assert "busy" in message and "Retry-After: 1 s" in message
    assert not ok.is_error and (queue.rejected, queue.completed) == (1, 2)


async def _never() -> dict:
    await anyio.sleep_forever()


async def _block(started, release) -> None:
    started.set()
    await release.wait()


@pytest.mark.slow
def test_stdio_answers_a_line_it_cannot_read_and_keeps_serving(fake_seed_index):
    """A line that is not JSON gets a JSON-RPC parse error (id null), one that is JSON but not
    JSON-RPC an invalid-request error; the server goes on answering the next requests."""
    import json
    import subprocess
    import threading

    env = {k: v for k, v in os.environ.items() if not k.startswith("JAXABOT_")}
    env["PYTHONPATH"] = os.pathsep.join([str(SUPPORT), str(ROOT), env.get("PYTHONPATH", "")])
    proc = subprocess.Popen([sys.executable, str(SUPPORT / "fake_mcp_stdio.py"), str(fake_seed_index)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    lines: list[dict] = []
    got = threading.Condition()

    def read() -> None:
        for raw in proc.stdout:
            with got:
                lines.append(json.loads(raw))
                got.notify_all()

    def answer(n: int) -> list[dict]:
        with got:
            assert got.wait_for(lambda: len(lines) >= n, timeout=60), (lines, proc.poll())
            return lines[:n]

    def send(text: str) -> None:
        proc.stdin.write(text.encode() + b"\n")
        proc.stdin.flush()

    threading.Thread(target=read, daemon=True).start()
    try:
        send("this is not json")
        parse_error = answer(1)[0]
        assert parse_error == {"jsonrpc": "2.0", "id": None,
                               "error": {"code": -32700, "message": parse_error["error"]["message"]}}
        send(json.dumps({"jsonrpc": "2.0", "method": 5}))
        assert answer(2)[1]["error"]["code"] == -32600 and answer(2)[1]["id"] is None
        send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}))
        assert answer(3)[2]["id"] == 1 and "result" in answer(3)[2]
        send(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        send('{"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "ask", '
             '"arguments": {"question": "SAFE\\ud800?"}}}')  # a lone surrogate: refused, not a crash
        assert answer(4)[3]["id"] in (2, None) and ("error" in answer(4)[3] or answer(4)[3]["result"]["isError"])
        send(json.dumps({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                         "params": {"name": "search", "arguments": {"query": "カナダ宇宙庁", "k": 2}}}))
        last = answer(5)[4]
        assert last["id"] == 3 and not last["result"]["isError"]
        assert len(last["result"]["structuredContent"]["hits"]) == 2
        proc.stdin.close()
        assert proc.wait(60) == 0
        assert b"Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
