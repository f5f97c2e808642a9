"""Reading the chat page's form (the no-JavaScript path) into a question and a history.

The form is user input like any body: a file where text belongs, a repeated or missing question,
or history roles and messages that do not pair up are refused with a clear message (the page
answers 422), never passed on to fail later with a 500.
"""

from starlette.datastructures import FormData


class FormProblem(ValueError):
    """The form cannot be read as one question plus history; the message says why."""


def read_chat_form(form: FormData) -> tuple[str, list[dict]]:
    """(question, [{role, content}, ...]); FormProblem if the fields are not what the page sends."""
    questions = form.getlist("question")
    if not questions:
        raise FormProblem("the question is missing")
    if len(questions) > 1:
        raise FormProblem("send one question at a time")
    if not isinstance(questions[0], str):
        raise FormProblem("the question must be text, not a file")
    roles, contents = form.getlist("history_role"), form.getlist("history_content")
    if not all(isinstance(v, str) for v in [*roles, *contents]):
        raise FormProblem("the conversation history must be text, not files")
    if len(roles) != len(contents):
        raise FormProblem("the conversation history is incomplete: each message needs a role")
    return questions[0], [{"role": r, "content": c} for r, c in zip(roles, contents, strict=False)]


def readable_history(form: FormData) -> list[dict]:
    """The turns of a refused form that can still be shown (text, known roles), for its page."""
    pairs = zip(form.getlist("history_role"), form.getlist("history_content"), strict=False)
    return [{"role": r, "content": c} for r, c in pairs
            if r in ("user", "assistant") and isinstance(c, str)]
