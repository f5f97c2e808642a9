"""The MCP tools `ask`, `search` and `get_document` and the SDK server that carries them (official
`mcp` SDK), shared by both transports of web.mcp.server.

Kept apart from web.mcp.server because the SDK takes ~0.5 s of CPU to import: the web server
imports this module only once its model has loaded, off the way to the first answer.

Every call goes through the server's bounded question queue (web.server.workqueue), as /api/ask does:
a full queue is a tool error saying when to try again, and a call whose HTTP client has hung up
leaves the queue without being computed (over stdio a call is dropped when the client cancels it).

Domain errors become tool errors (`isError: true`) with the same public message the HTTP API
gives (web.errors.describe); anything unexpected reaches the client only as "Error executing
tool", the SDK logs the traceback.
"""

from collections.abc import Callable
from functools import partial
from typing import Annotated, TypeVar

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.types import Receive

from bot.engine import Engine
from bot.errors import JaxabotError
from bot.results import (
    MAX_HISTORY_TURNS,
    MAX_QUESTION_CHARS,
    MAX_TOP_K,
    Answer,
    Citation,
    DocumentView,
    SearchResults,
    Turn,
)
from web.errors import describe
from web.exceptions import ClientGone, NotReady, Overloaded
from web.server.workqueue import QuestionQueue, never_disconnects

T = TypeVar("T")

INSTRUCTIONS = ("jaxabot answers questions about JAXA's international cooperation (and any other "
                "documents its operator indexed) by quoting the documents' own sentences, each with "
                "a numbered citation. It never invents an answer: when the documents do not answer, "
                "`found` is false. Ask in Japanese or English.")


class AskResult(BaseModel):
    answer: str = Field(description="the answer, with [n] markers that refer to `citations`")
    found: bool = Field(description="false when the documents do not answer the question")
    language: str = Field(description="ja or en: the language of the question and the answer")
    citations: list[Citation]
    index_version: str


class Tools:
    """The three tools, over `engine()` (raises when nothing can answer) and `questions` (the
    bounded queue that runs CPU work off the event loop, within the server's worker limit)."""

    def __init__(self, engine: Callable[[], Engine], questions: QuestionQueue,
                 on_answer: Callable[[Answer], None] | None = None) -> None:
        self.engine = engine
        self.questions = questions
        self.on_answer = on_answer

    async def _call(self, work: Callable[[Engine], T], ctx: Context | None) -> T:
        try:
            engine = self.engine()
            return await self.questions.run(partial(work, engine), _receive_of(ctx))
        except Overloaded as exc:
            raise ToolError(f"{describe(exc)[2]} (Retry-After: {exc.retry_after} s)") from None
        except ClientGone:
            raise ToolError("the client disconnected; nothing was computed") from None
        except (JaxabotError, NotReady) as exc:
            raise ToolError(describe(exc)[2]) from None

    async def ask(self,
                  question: Annotated[str, Field(max_length=MAX_QUESTION_CHARS, description=(
                      "the question, in Japanese or English, e.g. 'SAFEは何年に設立されましたか？'"))],
                  history: Annotated[list[Turn] | None, Field(max_length=MAX_HISTORY_TURNS, description=(
                      "earlier turns of the conversation, oldest first, so a follow-up such as "
                      "'When was it founded?' is understood"))] = None,
                  ctx: Context | None = None,
                  ) -> Annotated[CallToolResult, AskResult]:
        """Answer a question from the indexed documents. The answer quotes the documents'
        sentences with [n] markers; each citation gives the title, URL, section and the passage
        text with the supporting sentence's [start, end) `highlight` (and `answer_span`, the
        phrase that answers, when there is one; `section_span` when only the section heading
        gives it). When the documents do not answer, `found` is
        false and there are no citations: say so rather than guessing."""
        answer = await self._call(lambda e: e.ask(question, history or []), ctx)
        if self.on_answer is not None:
            self.on_answer(answer)
        result = AskResult(answer=answer.answer, found=answer.found, language=answer.language,
                           citations=answer.citations, index_version=answer.index_version)
        return CallToolResult(content=[TextContent(type="text", text=_ask_text(result))],
                              structured_content=result.model_dump(mode="json"))

    async def search(self,
                     query: Annotated[str, Field(max_length=MAX_QUESTION_CHARS,
                                                 description="words or a question to look for")],
                     k: Annotated[int, Field(ge=1, le=MAX_TOP_K, description="passages wanted")] = 5,
                     ctx: Context | None = None,
                     ) -> Annotated[CallToolResult, SearchResults]:
        """Find the passages most related to a query (hybrid dense + BM25 retrieval, no answer
        composed). Each hit has its rank, document id, title, URL, section, text and score; use
        `get_document` with a hit's doc_id to read the whole document."""
        results = await self._call(lambda e: e.search(query, k), ctx)
        lines = [f"{h.rank}. {h.title} — {h.section} (doc_id {h.doc_id}, {h.chunk_id})\n{h.text}"
                 for h in results.hits]
        return CallToolResult(content=[TextContent(type="text", text="\n\n".join(lines) or "no passages")],
                              structured_content=results.model_dump(mode="json"))

    async def get_document(self,
                           doc_id: Annotated[str, Field(min_length=1, max_length=500, description=(
                               "a document id from a citation or search hit, e.g. "
                               "'jaxa-international-cooperation'"))],
                           ctx: Context | None = None,
                           ) -> Annotated[CallToolResult, DocumentView]:
        """Read one indexed document: its cleaned text and metadata (title, URL, language) with
        the [start, end) offsets of its passages and their sentences within `text`."""
        doc = await self._call(lambda e: e.document(doc_id), ctx)
        header = f"{doc.title}\n{doc.url or doc.doc_id}\n\n"
        return CallToolResult(content=[TextContent(type="text", text=header + doc.text)],
                              structured_content=doc.model_dump(mode="json"))


def _receive_of(ctx: Context | None) -> Receive:
    """The ASGI receive of the HTTP request carrying this call (its body already read: only a
    disconnect can come), so the queue notices a client that has gone; over stdio there is none."""
    try:
        request = ctx.request_context.request if ctx is not None else None
    except ValueError:  # called outside a request (tests)
        request = None
    return request.receive if isinstance(request, Request) else never_disconnects


def _ask_text(result: AskResult) -> str:
    lines = [result.answer]
    if result.citations:
        lines.append("\nSources:")
        for c in result.citations:
            h0, h1 = c.highlight
            lines.append(f"[{c.n}] {c.title} — {c.section} ({c.url or c.doc_id})\n    {c.text[h0:h1]}")
    return "\n".join(lines)


def create_server(tools: Tools) -> MCPServer:
    server = MCPServer("jaxabot", title="jaxabot: cited answers from documents", version="0.1.0",
                       instructions=INSTRUCTIONS, log_level="WARNING")
    read_only = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)
    server.add_tool(tools.ask, name="ask", title="Ask the documents", annotations=read_only)
    server.add_tool(tools.search, name="search", title="Search passages", annotations=read_only)
    server.add_tool(tools.get_document, name="get_document", title="Read a document", annotations=read_only)
    return server
