"""OpenAI's chat-completions shapes, as far as jaxabot speaks them (web/openai/api.py).

Requests: the fields OpenAI's SDKs and chat front ends send are declared with their types and
validated strictly, as OpenAI's own API does ("yes" is not `true`, "1" is not a number), so a
wrong type is a clear 400; the ones without meaning for an extractive, cited answer are accepted
and ignored (listed in `IGNORED`, documented in the README). Unknown extra fields are ignored too:
clients add their own (Open WebUI, LibreChat), and refusing them would break those clients.
Responses add two top-level fields OpenAI clients skip: `citations` and `found`.
"""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MODEL_ID = "jaxabot"

# Accepted for compatibility, without effect: answers are sentences quoted from the documents
# (no sampling, no token budget to cut, no tools to call, one answer per question).
IGNORED = ("temperature", "top_p", "max_tokens", "max_completion_tokens", "stop", "presence_penalty",
           "frequency_penalty", "seed", "logit_bias", "logprobs", "top_logprobs", "user", "tools",
           "tool_choice", "parallel_tool_calls", "response_format", "stream_options", "metadata",
           "store", "service_tier", "reasoning_effort")


# Every request model is strict: no coercion between JSON types ("yes" → true, "1" → 1); an int
# is still a valid float.
class TextPart(BaseModel):
    model_config = ConfigDict(strict=True)

    type: Literal["text"]
    text: str


class OtherPart(BaseModel):
    """An image, audio or file part: declared so it can be refused with a clear message."""
    model_config = ConfigDict(strict=True, extra="allow")
    type: Literal["image_url", "input_audio", "file", "refusal"]


class ChatMessage(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[TextPart | OtherPart] | None = None


class ChatRequest(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow", json_schema_extra={"examples": [{
        "model": MODEL_ID, "messages": [{"role": "user", "content": "SAFEは何年に設立されましたか？"}]}]})

    model: str = Field(description=f"`{MODEL_ID}` (GET /v1/models)")
    messages: list[ChatMessage] = Field(
        min_length=1, description="the conversation, oldest first; the last message is the user's "
                                  "question, earlier user/assistant messages are the history, "
                                  "system/developer/tool messages are ignored")
    stream: bool | None = Field(False, description="Server-Sent Events in OpenAI's chunk format")
    n: int | None = Field(1, ge=1, le=1, description="one answer per question")
    # Accepted and ignored (see IGNORED): typed so a malformed value is still a clear 400.
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    stop: str | list[str] | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    seed: int | None = None
    logit_bias: dict[str, float] | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    user: str | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    response_format: dict[str, Any] | None = None
    stream_options: dict[str, Any] | None = None
    metadata: dict[str, str] | None = None
    store: bool | None = None
    service_tier: str | None = None
    reasoning_effort: str | None = None


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class CompletionCitation(BaseModel):
    n: int
    title: str
    url: str | None
    doc_id: str
    chunk_id: str
    text: str
    highlight: tuple[int, int] = Field(description="[start, end) of the supporting sentence within `text`")
    answer_span: tuple[int, int] | None = Field(
        None, description="[start, end) within `text` of the phrase that answers the question, if any")
    section: str = Field("", description="the heading the cited passage stands under")
    section_span: tuple[int, int] | None = Field(
        None, description="[start, end) within `section` of the answering phrase, when only the heading gives it")
    page: int | None = Field(None, description="PDF: the page of the cited sentence")
    slide: int | None = Field(None, description="PowerPoint: the slide of the cited sentence")
    sheet: str | None = Field(None, description="Excel: the sheet of the cited sentence")
    row: int | None = Field(None, description="Excel: the row of the cited sentence")
    date: str | None = Field(None, description="the cited document's date (ISO 8601), if it has one")


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str
    refusal: None = None


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop"] = "stop"
    logprobs: None = None


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    system_fingerprint: str = Field(description="the index version the answer comes from")
    choices: list[Choice]
    citations: list[CompletionCitation] = Field(description="the sources of the `[n]` markers")
    found: bool = Field(description="false when the documents do not answer the question")


class Delta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None


class ChunkChoice(BaseModel):
    index: int = 0
    delta: Delta
    finish_reason: Literal["stop"] | None = None
    logprobs: None = None


class ChatCompletionChunk(BaseModel):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    system_fingerprint: str
    choices: list[ChunkChoice]
    # Only on the final chunk (with finish_reason): the same values as the non-streamed answer.
    citations: list[CompletionCitation] | None = None
    found: bool | None = None


class OpenAIError(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class OpenAIErrorBody(BaseModel):
    error: OpenAIError
