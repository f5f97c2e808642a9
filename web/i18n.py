"""UI text in Japanese and English, and which of the two a request gets.

The page follows, in order: an explicit `?lang=`, the language of the question just asked, then
the browser's Accept-Language. Japanese is the default: the documents are Japanese.
"""

from bot.text.language import detect_language

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
        "welcome_text": ("回答は公開資料の文章をそのまま引用し、出典を示します。"
                         "資料にないことには「見つからない」と答えます。"),
        "examples": "質問の例",
        "you": "あなた",
        "bot": "jaxabot",
        "sources": "出典",
        "view_source": "原文で見る",
        "original_page": "元のページ",
        "page_n": "{n}ページ",
        "page_image_alt": "{n}ページの画像（引用された文に印）",
        "open_original_at_page": "元のファイルを{n}ページで開く",
        "slide_n": "スライド{n}",
        "sheet_row": "シート「{sheet}」{row}行目",
        "sheet_only": "シート「{sheet}」",
        "ocr_read": "OCRで読み取った文（信頼度 {conf}%）",
        "ocr_mark": "OCR（信頼度 {conf}%）",
        "page_changed": "ファイルが索引の作成後に変わったため、ページ画像は表示できません。",
        "section": "節",
        "not_found_title": "資料に答えが見つかりませんでした",
        "related": "関連がありそうな箇所",
        "error_title": "エラー",
        "error_network": "サーバーに接続できませんでした。再接続を待っています…",
        "error_generic": "回答できませんでした。",
        "conversation": "会話",
        "back_to_chat": "チャットに戻る",
        "document": "資料",
        "passage": "段落",
        "cited_sentence": "引用された文",
        "seconds": "秒",
        "api_docs": "API",
        "skip_to_input": "入力欄へ移動",
        "conversations": "会話一覧",
        "conversations_title": "これまでの会話",
        "conversations_empty": "保存された会話はまだありません。",
        "conversations_note": "会話はこのブラウザの中だけに保存されます。",
        "untitled": "無題の会話",
        "questions_count": "質問{n}件",
        "current": "表示中",
        "rename": "名前を変更",
        "rename_label": "会話の名前",
        "save": "保存",
        "cancel": "キャンセル",
        "delete": "削除",
        "close": "閉じる",
        "deleted": "会話を削除しました",
        "copy": "コピー",
        "copied": "回答をコピーしました",
        "copy_failed": "コピーできませんでした",
        "feedback_up": "役に立った",
        "feedback_down": "役に立たなかった",
        "feedback_comment_label": "ご意見（任意）",
        "feedback_send": "ご意見を送る",
        "feedback_thanks": "評価を受け付けました。ありがとうございます。",
        "feedback_comment_thanks": "ご意見を受け付けました。ありがとうございます。",
        "feedback_failed": "評価を送れませんでした。",
        "suggestions": "次の質問の候補",
        "source_n": "出典{n}",
        "related_n": "関連箇所{n}",
        "link_suffix": "（{label}）",
        "new_tab": "（新しいタブで開きます）",
        "answer_announce": "jaxabotの回答",
        "sources_count": "出典{n}件",
        "counter": "{n} / {max}文字",
        "too_long": "質問が{over}文字長すぎます（最大{max}文字）。",
        "starting": "起動中です。準備ができると質問できます…",
        "ready": "準備ができました。",
        "error_not_ready": "起動中です。数秒後にもう一度お試しください。",
        "error_no_index": "資料の索引がまだ作られていません。管理者にお問い合わせください。",
        "error_invalid_input": "この質問は受け付けられません（空か、長すぎます）。",
        "error_body_too_large": "送信内容が大きすぎます。",
        "error_too_many_requests": "送信が多すぎます。少し待ってからお試しください。",
        "error_unavailable": "いまは回答できません。しばらくしてからお試しください。",
        "error_not_found": "お探しのページや資料は見つかりませんでした。",
        "error_internal_error": "サーバーでエラーが起きました。",
        "api_docs_link": "APIドキュメント",
        "footer_note": "回答は資料からの引用です。重要な判断には原文をご確認ください。",
        "partial_title": "一部のみ回答",
        "searched_for": "「{query}」として検索しました",
        "ask_alone": "前の会話を使わずに検索",
        "ja_source": "日本語の原文",
        "dated": "{date}の資料",
        "build_reading": "索引を作成中（資料を読み込んでいます）",
        "starting_resend": "準備ができたら、もう一度送信してください。",
        "build_docs": "索引を作成中 {done}/{total}件",
        "build_embed": "索引を作成中 {total}件・埋め込み {pct}%",
        "build_finish": "索引を作成中 {total}件・仕上げ中",
        "queued": "準備ができしだい質問を送ります",
        "reconnected": "再接続しました。",
        "resend": "もう一度送信",
        "undo": "元に戻す",
        "restored": "会話を元に戻しました",
        "back_to_conversation": "会話に戻る",
    },
    "en": {
        "product": "jaxabot",
        "tagline": "Answers about JAXA's international cooperation, quoted from the documents",
        "new_conversation": "New conversation",
        "switch_lang": "日本語",
        "switch_lang_code": "ja",
        "question_label": "Question",
        "placeholder": "Ask about JAXA's cooperation",
        "hint": "Enter to send · Shift+Enter for a new line",
        "send": "Send",
        "pending": "Searching the documents…",
        "welcome_title": "Ask about JAXA's international cooperation",
        "welcome_text": ("Answers quote the published documents and show their sources. "
                         "When the documents don't say, jaxabot tells you so."),
        "examples": "Example questions",
        "you": "You",
        "bot": "jaxabot",
        "sources": "Sources",
        "view_source": "View in document",
        "original_page": "Original page",
        "page_n": "Page {n}",
        "page_image_alt": "Page {n} as an image, the cited sentence marked",
        "open_original_at_page": "Open the original file at page {n}",
        "slide_n": "Slide {n}",
        "sheet_row": "Sheet “{sheet}”, row {row}",
        "sheet_only": "Sheet “{sheet}”",
        "ocr_read": "Read by OCR (confidence {conf}%)",
        "ocr_mark": "OCR (confidence {conf}%)",
        "page_changed": "The file changed after it was indexed; its page image cannot be shown.",
        "section": "Section",
        "not_found_title": "The documents don't answer this",
        "related": "Possibly related passages",
        "error_title": "Error",
        "error_network": "Could not reach the server. Waiting to reconnect…",
        "error_generic": "Could not answer.",
        "conversation": "Conversation",
        "back_to_chat": "Back to the chat",
        "document": "Document",
        "passage": "Passage",
        "cited_sentence": "Cited sentence",
        "seconds": "s",
        "api_docs": "API",
        "skip_to_input": "Skip to the question box",
        "conversations": "Conversations",
        "conversations_title": "Your conversations",
        "conversations_empty": "No saved conversations yet.",
        "conversations_note": "Conversations are kept in this browser only.",
        "untitled": "Untitled conversation",
        "questions_count": "{n} questions",
        "current": "Open",
        "rename": "Rename",
        "rename_label": "Conversation name",
        "save": "Save",
        "cancel": "Cancel",
        "delete": "Delete",
        "close": "Close",
        "deleted": "Conversation deleted",
        "copy": "Copy",
        "copied": "Answer copied",
        "copy_failed": "Could not copy",
        "feedback_up": "Helpful",
        "feedback_down": "Not helpful",
        "feedback_comment_label": "Comment (optional)",
        "feedback_send": "Send comment",
        "feedback_thanks": "Thanks, your rating was recorded.",
        "feedback_comment_thanks": "Thanks, your comment was recorded.",
        "feedback_failed": "Could not send your rating.",
        "suggestions": "Suggested next questions",
        "source_n": "Source {n}",
        "related_n": "related passage {n}",
        "link_suffix": " ({label})",
        "new_tab": " (opens in a new tab)",
        "answer_announce": "jaxabot answered",
        "sources_count": "{n} sources",
        "counter": "{n} / {max} characters",
        "too_long": "The question is {over} characters too long (at most {max}).",
        "starting": "Starting up — you can ask in a moment…",
        "ready": "Ready.",
        "error_not_ready": "jaxabot is starting up. Please try again in a few seconds.",
        "error_no_index": "No document index has been built yet. Please contact the administrator.",
        "error_invalid_input": "This question cannot be accepted (empty or too long).",
        "error_body_too_large": "The request is too large.",
        "error_too_many_requests": "Too many requests. Please wait a moment and try again.",
        "error_unavailable": "jaxabot cannot answer right now. Please try again shortly.",
        "error_not_found": "The page or document was not found.",
        "error_internal_error": "Something went wrong on the server.",
        "api_docs_link": "API documentation",
        "footer_note": "Answers quote the documents; check the original before relying on them.",
        "partial_title": "Partly answered",
        "searched_for": "Searched for: {query}",
        "ask_alone": "Search without the conversation",
        "ja_source": "Japanese source text",
        "dated": "Dated {date}",
        "build_reading": "Building the index (reading the documents)",
        "starting_resend": "Send your question again when it is ready.",
        "build_docs": "Building the index: {done}/{total} documents",
        "build_embed": "Building the index: {total} documents, {pct}% embedded",
        "build_finish": "Building the index: {total} documents, finishing",
        "queued": "your question will be sent when ready",
        "reconnected": "Reconnected.",
        "resend": "Send again",
        "undo": "Undo",
        "restored": "Conversation restored",
        "questions_count_one": "{n} question",
        "sources_count_one": "{n} source",
        "back_to_conversation": "Back to the conversation",
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
