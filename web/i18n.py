"""UI text in Japanese and English, and which of the two a request gets.

The page follows, in order: an explicit `?lang=`, the language of the question just asked, then
the browser's Accept-Language. Japanese is the default: the documents are Japanese.
"""

from bot.language import detect_language

LANGS = ("ja", "en")
DEFAULT_LANG = "ja"

STRINGS: dict[str, dict[str, str]] = {
    "ja": {
        "product": "jaxabot",
        "tagline": "JAXAの国際協力について、資料にもとづいて答えます",
        "new_conversation": "新しい会話",
        "switch_lang": "English",
        "switch_lang_code": "en",
        "question_label": "質問",
        "placeholder": "JAXAの国際協力について質問する",
        "hint": "Enterで送信・Shift+Enterで改行",
        "send": "送信",
        "pending": "資料を調べています…",
        "welcome_title": "JAXAの国際協力について質問してください",
        "welcome_text": "回答は公開資料の文章をそのまま引用し、出典を示します。資料にないことには「見つからない」と答えます。",
        "examples": "質問の例",
        "you": "あなた",
        "bot": "jaxabot",
        "sources": "出典",
        "view_source": "原文で見る",
        "original_page": "元のページ",
        "section": "節",
        "not_found_title": "資料に答えが見つかりませんでした",
        "related": "関連がありそうな箇所",
        "error_title": "エラー",
        "error_network": "サーバーに接続できませんでした。もう一度お試しください。",
        "error_generic": "回答できませんでした。",
        "conversation": "会話",
        "back_to_chat": "チャットに戻る",
        "document": "資料",
        "passage": "段落",
        "cited_sentence": "引用された文",
        "seconds": "秒",
        "api_docs": "API",
        "skip_to_input": "入力欄へ移動",
    },
    "en": {
        "product": "jaxabot",
        "tagline": "Answers about JAXA's international cooperation, quoted from the documents",
        "new_conversation": "New conversation",
        "switch_lang": "日本語",
        "switch_lang_code": "ja",
        "question_label": "Question",
        "placeholder": "Ask about JAXA's international cooperation",
        "hint": "Enter to send · Shift+Enter for a new line",
        "send": "Send",
        "pending": "Searching the documents…",
        "welcome_title": "Ask about JAXA's international cooperation",
        "welcome_text": "Answers quote the published documents and show their sources. When the documents don't say, jaxabot tells you so.",
        "examples": "Example questions",
        "you": "You",
        "bot": "jaxabot",
        "sources": "Sources",
        "view_source": "View in document",
        "original_page": "Original page",
        "section": "Section",
        "not_found_title": "The documents don't answer this",
        "related": "Possibly related passages",
        "error_title": "Error",
        "error_network": "Could not reach the server. Please try again.",
        "error_generic": "Could not answer.",
        "conversation": "Conversation",
        "back_to_chat": "Back to the chat",
        "document": "Document",
        "passage": "Passage",
        "cited_sentence": "Cited sentence",
        "seconds": "s",
        "api_docs": "API",
        "skip_to_input": "Skip to the question box",
    },
}

EXAMPLES = {
    "ja": ["SAFEは何年に設立されましたか？", "カナダとはどの分野で協力していますか？",
           "When was APRSAF founded?"],
    "en": ["When was APRSAF founded?", "SAFEは何年に設立されましたか？",
           "カナダとはどの分野で協力していますか？"],
}


def from_accept_language(header: str | None) -> str:
    """The first of our languages in the browser's preference order (q-values respected)."""
    if not header:
        return DEFAULT_LANG
    ranked = []
    for i, item in enumerate(header.split(",")):
        parts = item.strip().split(";")
        tag = parts[0].strip().lower()
        q = 1.0
        for p in parts[1:]:
            name, _, value = p.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        ranked.append((-q, i, tag))
    for _, _, tag in sorted(ranked):
        base = tag.split("-")[0]
        if base in LANGS:
            return base
    return DEFAULT_LANG


def choose_lang(explicit: str | None, question: str | None, accept_language: str | None) -> str:
    if explicit in LANGS:
        return explicit
    if question and question.strip():
        return detect_language(question)
    return from_accept_language(accept_language)
