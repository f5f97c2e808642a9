// The chat, enhanced: questions go to /api/ask without a page reload, conversations are kept in
// this browser (localStorage) and restored on reload, language switch, return from a document
// and Back. Without this script the same form posts to "/" and the server renders the answer
// (see web/routes/pages.py).
//
// Untrusted text (questions, answers, document passages) only ever enters the page through
// textContent / createTextNode — never innerHTML. The markup mirrors templates/_answer.html.
"use strict";

(function () {
  var config = JSON.parse(document.getElementById("ui-strings").textContent);
  var STRINGS = config.strings;
  var LIMITS = config.limits;
  var STORE_KEY = "jaxabot.conversations.v1";
  var RETURN_KEY = "jaxabot.return-to";
  // Which conversation this tab shows (per tab, so two tabs can hold two conversations).
  var TAB_KEY = "jaxabot.current";
  var MAX_CONVERSATIONS = 50;
  var TITLE_CHARS = 60;
  var form = document.getElementById("ask-form");
  var input = document.getElementById("question");
  var sendButton = form.querySelector("button.send");
  var log = document.getElementById("log");
  var pending = document.getElementById("pending");
  var pendingText = document.getElementById("pending-text");
  var errorBox = document.getElementById("error");
  var announcer = document.getElementById("announcer");
  var counter = document.getElementById("counter");
  var examplesMenu = document.getElementById("examples-menu");
  var dialog = document.getElementById("conversations");
  var listNode = document.getElementById("conversation-list");
  var emptyNote = document.getElementById("conversations-empty");
  var listButton = document.getElementById("conversations-button");
  var welcome = document.getElementById("welcome");
  var pageStrings = STRINGS[config.lang] || STRINGS.ja;
  var reducedMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  var reconnected = document.getElementById("reconnected");
  var toast = document.getElementById("toast");
  var toastText = document.getElementById("toast-text");
  var toastButton = toast.querySelector("[data-action=undo]");
  var toastHome = toast.parentNode;
  var busy = false;
  // While the server starts: what it is doing (from /api/health), and whether a question waits.
  var starting = false;
  var startText = "";
  var waiting = null;  // {alone: bool} when a question waits in the box for the server
  var reconnectTimer = null;
  var toastTimer = null;
  var undoState = null;  // the conversation just deleted, until its toast goes
  // The conversation on screen: null until its first question is answered.
  var conversation = null;
  // Set when the server rendered turns itself (the no-script form was used): those stay as they are.
  var serverHistory = null;

  function fmt(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, key) { return String(values[key]); });
  }

  function scrollBehavior() {
    return reducedMotion ? "auto" : "smooth";
  }

  // ---- storage --------------------------------------------------------------------------------
  // Every change re-reads the store first, so two tabs editing different conversations don't
  // overwrite each other.

  function readStore() {
    try {
      var data = JSON.parse(localStorage.getItem(STORE_KEY));
      if (data && Array.isArray(data.items)) return data;
    } catch (e) { /* unreadable: start again */ }
    return { current: null, items: [] };
  }

  function writeStore(data) {
    data.items.sort(function (a, b) { return b.updated - a.updated; });
    data.items = data.items.slice(0, MAX_CONVERSATIONS);
    for (;;) {
      try {
        localStorage.setItem(STORE_KEY, JSON.stringify(data));
        return true;
      } catch (e) {
        // Full: the oldest conversation other than the current one goes first.
        var victim = -1;
        for (var i = data.items.length - 1; i >= 0; i--) {
          if (data.items[i].id !== data.current) { victim = i; break; }
        }
        if (victim < 0) return false;
        data.items.splice(victim, 1);
      }
    }
  }

  function updateStore(change) {
    var data = readStore();
    change(data);
    writeStore(data);
    return data;
  }

  function saveConversation() {
    if (!conversation) return;
    conversation.updated = Date.now();
    updateStore(function (data) {
      data.items = data.items.filter(function (c) { return c.id !== conversation.id; });
      data.items.unshift(conversation);
      data.current = conversation.id;
    });
    setTabCurrent(conversation.id);
  }

  function setTabCurrent(id) {
    try { sessionStorage.setItem(TAB_KEY, id || ""); } catch (e) { /* the store's choice is used */ }
  }

  function tabCurrent() {
    try { return sessionStorage.getItem(TAB_KEY); } catch (e) { return null; }
  }

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return String(Date.now()) + "-" + String(Math.random()).slice(2);
  }

  function titleOf(conv) {
    return conv.title || pageStrings.untitled;
  }

  // The turns as the API takes them: questions and answer texts.
  function textHistory() {
    if (serverHistory) return serverHistory;
    if (!conversation) return [];
    return conversation.turns.map(function (t) {
      return { role: t.role, content: t.role === "user" ? t.content : t.answer.answer };
    });
  }

  // Same rule as web/view.py fit_history: the newest turns within the API's limits.
  function fitHistory(turns) {
    var kept = [];
    var total = 0;
    for (var i = turns.length - 1; i >= 0; i--) {
      var size = turns[i].content.length;
      if (kept.length >= LIMITS.turns || total + size > LIMITS.chars) break;
      kept.unshift(turns[i]);
      total += size;
    }
    return kept;
  }

  // The conversation the server rendered into hidden fields (no-script form posts only).
  function readHiddenHistory() {
    var roles = form.querySelectorAll("input[name=history_role]");
    var contents = form.querySelectorAll("input[name=history_content]");
    var turns = [];
    for (var i = 0; i < roles.length && i < contents.length; i++) {
      turns.push({ role: roles[i].value, content: contents[i].value });
    }
    return turns;
  }

  // ---- markup (mirrors templates/_answer.html) ---------------------------------------------------

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function hiddenText(text) {
    return el("span", "visually-hidden", text);
  }

  function svgIcon(path, size) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("class", "icon");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", String(size || 18));
    svg.setAttribute("height", String(size || 18));
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var p = document.createElementNS(ns, "path");
    p.setAttribute("d", path);
    p.setAttribute("fill", "none");
    p.setAttribute("stroke", "currentColor");
    p.setAttribute("stroke-width", "2");
    p.setAttribute("stroke-linecap", "round");
    p.setAttribute("stroke-linejoin", "round");
    svg.appendChild(p);
    return svg;
  }

  var ICONS = {
    copy: "M9 9h10v11H9zM5 15V4h10",
    up: "M7 10v10H4V10zM7 10l4-7c1.5 0 2.5 1 2.2 2.6L12.6 9H19a2 2 0 0 1 2 2.3l-1.3 7A2 2 0 0 1 17.7 20H7",
    down: "M17 14V4h3v10zM17 14l-4 7c-1.5 0-2.5-1-2.2-2.6l.6-3.4H5a2 2 0 0 1-2-2.3l1.3-7A2 2 0 0 1 6.3 4H17",
    rename: "M4 20h4L19 9l-4-4L4 16zM13.5 6.5l4 4",
    trash: "M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13",
  };

  // Mirrors web/view.py anchor() and source_href().
  function anchor(chunkId) {
    return "p-" + chunkId.replace(/[^A-Za-z0-9_-]/g, "-");
  }

  function sourceHref(docId, chunkId, highlight) {
    var path = docId.split("/").map(encodeURIComponent).join("/");
    var query = "chunk=" + encodeURIComponent(chunkId);
    if (highlight) query += "&hl=" + Number(highlight[0]) + "-" + Number(highlight[1]);
    if (config.lang === "ja" || config.lang === "en") query += "&lang=" + config.lang;
    return "/documents/" + path + "?" + query + "#" + anchor(chunkId);
  }

  // Mirrors web/view.py excerpt_parts(): the cited sentence with some context, "…" at each cut.
  function boundaryEnds(text, from, to) {
    var re = /[。！？!?]|\n/g;
    var ends = [];
    var m;
    re.lastIndex = from;
    while ((m = re.exec(text)) !== null && m.index < to) ends.push(m.index + m[0].length);
    return ends;
  }

  function cutAfter(text, start, context) {
    var end = start + context;
    if (end >= text.length) return text.slice(start);
    var ends = boundaryEnds(text, start, end);
    var cut = ends.length ? ends[ends.length - 1] : end;
    return text.slice(start, cut).trimEnd() + "…";
  }

  function excerptParts(text, highlight) {
    var context = LIMITS.excerpt;
    if (!highlight || !(highlight[0] >= 0 && highlight[0] < highlight[1])) {
      if (text.length <= 2 * context) return text ? [[text, false]] : [];
      return [[cutAfter(text, 0, 2 * context), false]];
    }
    var s = highlight[0];
    var e = Math.min(highlight[1], text.length);
    var start = Math.max(0, s - context);
    if (start > 0) {
      var ends = boundaryEnds(text, start, s);
      if (ends.length) start = ends[0];
    }
    var before = text.slice(start, s).trimStart();
    if (start > 0 && before) before = "…" + before;
    var parts = [[before, false], [text.slice(s, e), true], [cutAfter(text, e, context), false]];
    return parts.filter(function (p) { return p[0]; });
  }

  // Mirrors web/view.py card_parts(): the answer phrase bold inside the cited sentence.
  function cardParts(text, highlight, span) {
    return excerptParts(text, highlight).map(function (part) {
      if (!part[1]) return [part[0], false, []];
      var piece = part[0];
      var pieces = [[piece, false]];
      if (highlight && span) {
        var bs = Math.max(span[0] - highlight[0], 0);
        var be = Math.min(span[1] - highlight[0], piece.length);
        if (bs < be) {
          pieces = [[piece.slice(0, bs), false], [piece.slice(bs, be), true], [piece.slice(be), false]]
            .filter(function (p) { return p[0]; });
        }
      }
      return [piece, true, pieces];
    });
  }

  // Mirrors web/view.py ocr_percent() and card_place(): where the cited sentence is in its file.
  function ocrPercent(confidence) {
    if (typeof confidence !== "number" || !isFinite(confidence)) return null;
    return Math.min(100, Math.max(0, Math.floor(confidence * 100 + 0.5)));
  }

  function cardPlace(item, strings) {
    var out = [];
    if (item.page != null) out.push(["where", fmt(strings.page_n, { n: item.page })]);
    if (item.slide != null) out.push(["where", fmt(strings.slide_n, { n: item.slide })]);
    if (item.sheet) {
      out.push(["where", item.row != null ? fmt(strings.sheet_row, { sheet: item.sheet, row: item.row })
                                          : fmt(strings.sheet_only, { sheet: item.sheet })]);
    }
    var conf = ocrPercent(item.ocr_confidence);
    if (conf !== null) out.push(["ocr", fmt(strings.ocr_mark, { conf: conf })]);
    return out;
  }

  function safeUrl(url) {
    if (!url) return null;
    try {
      var parsed = new URL(url);
      return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
    } catch (e) {
      return null;
    }
  }

  // Mirrors web/view.py answer_state(), searched_query(), text_lang(), answer_layout(), format_date().
  function answerState(answer) {
    if (answer.state === "partial" || answer.state === "not_found") return answer.state;
    return answer.found ? "answered" : "not_found";
  }

  function squash(text) {
    return String(text || "").trim().split(/\s+/).join(" ");
  }

  function searchedQuery(question, query) {
    if (!question || !query || squash(question) === squash(query)) return null;
    return query.trim();
  }

  var JAPANESE = /[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]/;

  function textLang(text, lang) {
    var own = JAPANESE.test(text || "") ? "ja" : "en";
    return own !== lang ? own : null;
  }

  function setLang(node, text, lang) {
    var tl = textLang(text, lang);
    if (tl) node.setAttribute("lang", tl);
    return node;
  }

  var JA_QUOTE = /^(「.*」)\s*(\[\d+\])\s*\(Japanese source\)\s*$/;
  var GLOSS = /^- (.+?): (.+)$/;

  function answerLayout(text, lang) {
    var plain = { main: text, quotes: [], glossaryTitle: "", glossary: [] };
    if (lang !== "en") return plain;
    var main = [];
    var quotes = [];
    var glossTitle = "";
    var gloss = [];
    text.split("\n\n").forEach(function (para) {
      var lines = para.split("\n");
      var entries = lines.slice(1).map(function (line) { return GLOSS.exec(line); });
      if (lines[0].indexOf("Glossary") === 0 && lines.length > 1 && entries.every(Boolean) && !gloss.length) {
        glossTitle = lines[0].replace(/:+$/, "").trim();
        gloss = entries.map(function (m) { return [m[1], m[2]]; });
        return;
      }
      var kept = [];
      lines.forEach(function (line) {
        var m = JA_QUOTE.exec(line);
        if (m) quotes.push(m[1] + m[2]);
        else kept.push(line);
      });
      if (kept.length) main.push(kept.join("\n"));
    });
    if (!quotes.length) return plain;
    return { main: main.join("\n\n"), quotes: quotes, glossaryTitle: glossTitle, glossary: gloss };
  }

  var MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
                "October", "November", "December"];

  function formatDate(value, lang) {
    if (!value || typeof value !== "string" || !value.trim()) return null;
    value = value.trim();
    var m = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/.exec(value);
    if (!m || (m[2] && !(Number(m[2]) >= 1 && Number(m[2]) <= 12)) || (m[3] && !(Number(m[3]) >= 1 && Number(m[3]) <= 31))) {
      return [value, null];
    }
    var text;
    if (lang === "ja") {
      text = m[1] + "年" + (m[2] ? Number(m[2]) + "月" : "") + (m[3] ? Number(m[3]) + "日" : "");
    } else {
      text = [m[3] ? String(Number(m[3])) : "", m[2] ? MONTHS[Number(m[2]) - 1] : "", m[1]]
        .filter(Boolean).join(" ");
    }
    return [text, value];
  }

  // "1 question" / "2 questions": a language's "_one" string when n is 1.
  function plural(strings, key, n) {
    var k = n === 1 && strings[key + "_one"] ? key + "_one" : key;
    return fmt(strings[k], { n: n });
  }

  function turnLabel(text) {
    return el("p", "turn-label", text);
  }

  function userTurn(text) {
    var article = el("article", "turn turn-user");
    article.setAttribute("data-role", "user");
    article.appendChild(turnLabel(pageStrings.you));
    var bubble = el("div", "bubble");
    bubble.appendChild(el("p", "answer-text", text));
    article.appendChild(bubble);
    return article;
  }

  function citeRef(text, c, tid, strings, alang) {
    var link = el("a", "cite-ref");
    link.href = "#cite-" + tid + "-" + c.n;
    link.setAttribute("aria-label", fmt(strings.source_n, { n: c.n }));
    link.appendChild(el("span", "cite-tag", text));
    var sentence = c.text.slice(c.highlight[0], c.highlight[1]);
    var preview = setLang(el("span", "cite-preview", sentence), sentence, alang);
    preview.setAttribute("aria-hidden", "true");
    link.appendChild(preview);
    return link;
  }

  // Text with its [n] markers turned into links to the citation cards (mirrors answer_parts);
  // `wrapLang` puts the text between markers in a span of that language.
  function linkedText(node, text, answer, tid, strings, wrapLang) {
    var byN = {};
    answer.citations.forEach(function (c) { byN[c.n] = c; });
    function plain(t) {
      if (!wrapLang) return document.createTextNode(t);
      var span = el("span", null, t);
      span.setAttribute("lang", wrapLang);
      return span;
    }
    var re = /\[(\d+)\]/g;
    var pos = 0;
    var m;
    while ((m = re.exec(text)) !== null) {
      var c = byN[Number(m[1])];
      if (!c) continue;
      if (m.index > pos) node.appendChild(plain(text.slice(pos, m.index)));
      node.appendChild(citeRef(m[0], c, tid, strings, answer.language));
      pos = m.index + m[0].length;
    }
    if (pos < text.length) node.appendChild(plain(text.slice(pos)));
    return node;
  }

  function passageCard(item, label, n, strings, tid, highlight, span, alang) {
    var li = el("li", "card");
    if (n) {
      li.id = "cite-" + tid + "-" + n;
      li.tabIndex = -1;
    }
    var head = el("div", "card-head");
    if (n) {
      var badge = el("span", "card-n", String(n));
      badge.setAttribute("aria-hidden", "true");
      head.appendChild(badge);
      head.appendChild(hiddenText(label));
    }
    var titles = el("div", "card-titles");
    titles.appendChild(setLang(el("h3", "card-title", item.title), item.title, alang));
    if (item.section) titles.appendChild(setLang(el("p", "card-section", item.section), item.section, alang));
    var date = formatDate(item.date, alang);
    if (date) {
      var line = el("p", "card-date");
      var time = el("time", null, fmt(strings.dated, { date: date[0] }));
      if (date[1]) time.setAttribute("datetime", date[1]);
      line.appendChild(time);
      titles.appendChild(line);
    }
    var place = cardPlace(item, strings);
    if (place.length) {
      var where = el("p", "card-place");
      where.setAttribute("data-role", "card-place");
      place.forEach(function (part, i) {
        if (i) where.appendChild(document.createTextNode(" · "));
        where.appendChild(el("span", "card-" + part[0], part[1]));
      });
      titles.appendChild(where);
    }
    head.appendChild(titles);
    li.appendChild(head);

    var quote = setLang(el("blockquote", "card-text"), item.text, alang);
    cardParts(item.text, highlight, span).forEach(function (part) {
      if (!part[1]) {
        quote.appendChild(document.createTextNode(part[0]));
        return;
      }
      var mark = el("mark");
      part[2].forEach(function (piece) {
        mark.appendChild(piece[1] ? el("strong", "answer-span", piece[0]) : document.createTextNode(piece[0]));
      });
      quote.appendChild(mark);
    });
    li.appendChild(quote);

    var suffix = fmt(strings.link_suffix, { label: label });
    var links = el("p", "card-links");
    var source = el("a", "card-source", strings.view_source);
    source.appendChild(hiddenText(suffix));
    source.href = sourceHref(item.doc_id, item.chunk_id, highlight);
    links.appendChild(source);
    var url = safeUrl(item.url);
    if (url) {
      var original = el("a", "card-original", strings.original_page);
      original.appendChild(hiddenText(suffix + strings.new_tab));
      original.href = url;
      original.rel = "noopener noreferrer external";
      original.target = "_blank";
      links.appendChild(original);
    }
    li.appendChild(links);
    return li;
  }

  function cardSection(title, listTag, extraClass) {
    var section = el("section", "citations" + (extraClass ? " " + extraClass : ""));
    section.setAttribute("aria-label", title);
    section.appendChild(el("h2", "citations-title", title));
    var list = el(listTag, "cards");
    section.appendChild(list);
    return { section: section, list: list };
  }

  function actionButton(action, icon, text, labelOnly) {
    var button = el("button", "action");
    button.type = "button";
    button.setAttribute("data-action", action);
    button.appendChild(svgIcon(icon));
    var span = el("span", labelOnly ? "visually-hidden" : "action-text", text);
    button.appendChild(span);
    return button;
  }

  function actionsBar(strings, tid, turn) {
    var bar = el("div", "actions");
    bar.appendChild(actionButton("copy", ICONS.copy, strings.copy));
    var up = actionButton("feedback-up", ICONS.up, strings.feedback_up, true);
    var down = actionButton("feedback-down", ICONS.down, strings.feedback_down, true);
    up.title = strings.feedback_up;
    down.title = strings.feedback_down;
    var rating = turn.feedback && turn.feedback.rating;
    up.setAttribute("aria-pressed", rating === "up" ? "true" : "false");
    down.setAttribute("aria-pressed", rating === "down" ? "true" : "false");
    bar.appendChild(up);
    bar.appendChild(down);
    bar.appendChild(el("span", "action-status"));

    var commentForm = el("form", "feedback-form");
    commentForm.hidden = !(turn.feedback && turn.feedback.id && !turn.feedback.comment);
    var label = el("label", "feedback-label", strings.feedback_comment_label);
    label.htmlFor = "comment-" + tid;
    var area = el("textarea", "feedback-comment");
    area.id = "comment-" + tid;
    area.rows = 2;
    area.maxLength = 1000;
    var send = el("button", "feedback-send", strings.feedback_send);
    send.type = "submit";
    send.setAttribute("data-action", "feedback-send");
    commentForm.appendChild(label);
    commentForm.appendChild(area);
    commentForm.appendChild(send);
    var wrap = el("div", "answer-tools");
    wrap.appendChild(bar);
    wrap.appendChild(commentForm);
    return wrap;
  }

  function suggestionSection(strings, questions) {
    var section = el("section", "suggestions");
    section.setAttribute("aria-label", strings.suggestions);
    section.appendChild(el("h2", "suggestions-title", strings.suggestions));
    var list = el("ul", "suggestion-list");
    questions.forEach(function (q) {
      var li = el("li");
      var button = el("button", "suggestion", q);
      button.type = "button";
      button.value = q;
      button.setAttribute("data-action", "suggestion");
      li.appendChild(button);
      list.appendChild(li);
    });
    section.appendChild(list);
    return section;
  }

  function botTurn(answer, tid, turn, question) {
    var strings = STRINGS[answer.language] || pageStrings;
    var alang = answer.language;
    var state = answerState(answer);
    var article = el("article", "turn turn-bot state-" + state.replace("_", "-") + (state === "not_found" ? " not-found" : ""));
    article.setAttribute("data-role", "assistant");
    article.setAttribute("data-found", answer.found ? "true" : "false");
    article.setAttribute("data-state", state);
    article.setAttribute("data-turn", tid);
    article.lang = answer.language;
    article.appendChild(turnLabel(strings.bot));
    var searched = searchedQuery(question, answer.query);
    if (searched) {
      var line = el("div", "searched");
      line.appendChild(el("p", "searched-text", fmt(strings.searched_for, { query: searched })));
      var alone = el("button", "searched-alone", strings.ask_alone);
      alone.type = "button";
      alone.value = question;
      alone.setAttribute("data-action", "standalone");
      line.appendChild(alone);
      article.appendChild(line);
    }
    var bubble = el("div", "bubble");
    if (state !== "answered") {
      bubble.setAttribute("role", "group");
      bubble.setAttribute("aria-labelledby", "state-" + tid);
    }
    if (state === "not_found") {
      var title = el("p", "nf-title");
      title.id = "state-" + tid;
      var icon = el("span", "nf-icon", "?");
      icon.setAttribute("aria-hidden", "true");
      title.appendChild(icon);
      title.appendChild(document.createTextNode(strings.not_found_title));
      bubble.appendChild(title);
      bubble.appendChild(el("p", "answer-text", answer.answer));
    } else {
      if (state === "partial") {
        var ptitle = el("p", "partial-title");
        ptitle.id = "state-" + tid;
        var picon = el("span", "partial-icon");
        picon.setAttribute("aria-hidden", "true");
        ptitle.appendChild(picon);
        ptitle.appendChild(document.createTextNode(strings.partial_title));
        bubble.appendChild(ptitle);
      }
      var layout = answerLayout(answer.answer, answer.language);
      bubble.appendChild(linkedText(el("p", "answer-text"), layout.main, answer, tid, strings));
      if (layout.quotes.length) {
        var fold = el("details", "ja-source");
        fold.appendChild(el("summary", null, strings.ja_source));
        layout.quotes.forEach(function (q) {
          fold.appendChild(linkedText(el("p", "ja-quote"), q, answer, tid, strings, "ja"));
        });
        if (layout.glossary.length) {
          fold.appendChild(el("p", "glossary-title", layout.glossaryTitle));
          var list = el("ul", "glossary");
          layout.glossary.forEach(function (g) {
            var li = el("li");
            var word = el("span", null, g[0]);
            word.setAttribute("lang", "ja");
            li.appendChild(word);
            li.appendChild(document.createTextNode(": " + g[1]));
            list.appendChild(li);
          });
          fold.appendChild(list);
        }
        bubble.appendChild(fold);
      }
    }
    article.appendChild(bubble);
    article.appendChild(actionsBar(strings, tid, turn));
    if (answer.citations.length) {
      var cites = cardSection(strings.sources, "ol");
      answer.citations.forEach(function (c) {
        cites.list.appendChild(passageCard(c, fmt(strings.source_n, { n: c.n }), c.n, strings, tid,
                                           c.highlight, c.answer_span, alang));
      });
      article.appendChild(cites.section);
    }
    if (answer.related.length) {
      var related = cardSection(strings.related, "ul", "related");
      answer.related.forEach(function (r, i) {
        related.list.appendChild(passageCard(r, fmt(strings.related_n, { n: i + 1 }), null, strings, tid, null, null, alang));
      });
      article.appendChild(related.section);
    }
    if (turn.suggestions && turn.suggestions.length) article.appendChild(suggestionSection(strings, turn.suggestions));
    return article;
  }

  // The answer as plain text with its sources, for the clipboard.
  function plainAnswer(answer) {
    var strings = STRINGS[answer.language] || pageStrings;
    var lines = [answer.answer];
    if (answer.citations.length) {
      lines.push("", strings.sources + ":");
      answer.citations.forEach(function (c) {
        lines.push("[" + c.n + "] " + c.title + (c.section ? " — " + c.section : ""));
        lines.push("    「" + c.text.slice(c.highlight[0], c.highlight[1]).trim() + "」");
        lines.push("    " + location.origin + sourceHref(c.doc_id, c.chunk_id, c.highlight));
        var url = safeUrl(c.url);
        if (url) lines.push("    " + url);
      });
    }
    return lines.join("\n");
  }

  // What a screen reader hears once per answer: its state, the text (an English answer's lead,
  // not the Japanese quotes an English voice would mangle), markers read as 「出典1」.
  function spokenAnswer(answer) {
    var strings = STRINGS[answer.language] || pageStrings;
    var state = answerState(answer);
    var main = state === "not_found" ? answer.answer : answerLayout(answer.answer, answer.language).main;
    var text = main.replace(/\[(\d+)\]/g, function (_, n) {
      return strings.link_suffix.replace("{label}", fmt(strings.source_n, { n: n }));
    });
    var extra = answer.citations.length ? " " + plural(strings, "sources_count", answer.citations.length) : "";
    var stop = answer.language === "ja" ? "。" : ". ";
    var prefix = state === "not_found" ? strings.not_found_title + stop :
      state === "partial" ? strings.partial_title + stop : "";
    return strings.answer_announce + ": " + prefix + text + extra;
  }

  function announce(text) {
    // Cleared first, so the same message twice is announced twice.
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = text; }, 50);
  }

  // ---- rendering a conversation -----------------------------------------------------------------

  function clearLog() {
    Array.prototype.slice.call(log.querySelectorAll("article.turn")).forEach(function (n) { n.remove(); });
  }

  function showWelcome(on) {
    if (welcome) {
      if (on && !welcome.parentNode) log.insertBefore(welcome, log.firstChild);
      if (!on && welcome.parentNode) welcome.remove();
    }
    examplesMenu.hidden = on;
    if (on) examplesMenu.open = false;
  }

  function renderConversation() {
    clearLog();
    var answers = 0;
    var turns = conversation ? conversation.turns : [];
    showWelcome(turns.length === 0);
    turns.forEach(function (turn, i) {
      if (turn.role === "user") {
        log.appendChild(userTurn(turn.content));
      } else {
        answers += 1;
        var asked = i > 0 && turns[i - 1].role === "user" ? turns[i - 1].content : null;
        var node = botTurn(turn.answer, "j" + answers, turn, asked);
        node.setAttribute("data-index", String(i));
        log.appendChild(node);
      }
    });
  }

  function answerCount() {
    return log.querySelectorAll("article.turn-bot").length;
  }

  function turnFor(article) {
    if (!conversation || !article) return null;
    var index = Number(article.getAttribute("data-index"));
    var turn = conversation.turns[index];
    return turn && turn.role === "assistant" ? { turn: turn, index: index } : null;
  }

  // ---- asking -----------------------------------------------------------------------------------

  function showError(message) {
    errorBox.textContent = "";
    errorBox.appendChild(el("strong", null, pageStrings.error_title + ": "));
    errorBox.appendChild(document.createTextNode(message));
    errorBox.hidden = false;
  }

  // Errors in the page's language: by the API's error code, else by status.
  function errorMessage(status, data) {
    var code = data && typeof data.error === "string" ? data.error : "";
    var known = code && pageStrings["error_" + code];
    if (known) return known;
    if (status === 429) return pageStrings.error_too_many_requests;
    if (status === 503) return pageStrings.error_unavailable;
    return pageStrings.error_generic + " (HTTP " + status + ")";
  }

  function setBusy(on, text) {
    busy = on;
    sendButton.disabled = on || starting;
    // Still starting up: that stays said (with the build's progress) until the server is ready.
    pending.hidden = !on && !starting;
    var startLine = (startText || pageStrings.starting) + (waiting ? " — " + pageStrings.queued : "");
    pendingText.textContent = on ? text : (starting ? startLine : "");
    if (on) log.setAttribute("aria-busy", "true");
    else log.removeAttribute("aria-busy");
  }

  function autosize() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 200) + "px";
  }

  function updateCounter() {
    var n = input.value.length;
    var max = LIMITS.question;
    var near = n >= Math.floor(max * 0.8);
    counter.hidden = !near;
    counter.textContent = near ? fmt(pageStrings.counter, { n: n, max: max }) : "";
    counter.classList.toggle("over", n > max);
    if (n > max) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }

  function keepInView(question, answer) {
    // The question at the top when its answer's start still shows well below it; otherwise the
    // answer's start just under the sticky header (scroll-margin-top in app.css).
    var gap = answer.getBoundingClientRect().top - question.getBoundingClientRect().top;
    var target = gap < window.innerHeight * 0.35 ? question : answer;
    target.scrollIntoView({ block: "start", behavior: scrollBehavior() });
  }

  async function ask(question, alone) {
    if (busy) return;
    var text = question.trim();
    if (!text) {
      input.focus();
      return;
    }
    if (question.length > LIMITS.question) {
      var over = fmt(pageStrings.too_long, { over: question.length - LIMITS.question, max: LIMITS.question });
      showError(over);
      input.focus();
      return;
    }
    if (starting) {
      // The server is not ready: the question waits in the box and goes when it is.
      waiting = { alone: !!alone };
      input.value = question;
      autosize();
      setBusy(false);
      announce(pageStrings.queued);
      return;
    }
    errorBox.hidden = true;
    reconnected.hidden = true;
    window.clearTimeout(reconnectTimer);
    showWelcome(false);
    examplesMenu.open = false;
    var userNode = userTurn(question);
    log.appendChild(userNode);
    input.value = "";
    autosize();
    updateCounter();
    setBusy(true, pageStrings.pending);
    try {
      var response = await fetch("/api/ask", {
        method: "POST",
        headers: { "Content-Type": "application/json", "Accept": "application/json" },
        body: JSON.stringify({ question: question, history: alone ? [] : fitHistory(textHistory()), top_k: 3 }),
      });
      var data = null;
      try {
        data = await response.json();
      } catch (e) {
        data = null;
      }
      if (!response.ok || !data || typeof data.answer !== "string") {
        var failure = new Error(errorMessage(response.status, data));
        failure.code = data && data.error;
        throw failure;
      }
      if (serverHistory) {
        serverHistory.push({ role: "user", content: text }, { role: "assistant", content: data.answer });
      } else if (!conversation) {
        var now = Date.now();
        conversation = { id: newId(), title: text.slice(0, TITLE_CHARS), created: now, updated: now, turns: [] };
      }
      var turn = { role: "assistant", answer: data };
      var node = botTurn(data, "j" + (answerCount() + 1), turn, question);
      if (conversation && !serverHistory) {
        conversation.turns.push({ role: "user", content: question }, turn);
        node.setAttribute("data-index", String(conversation.turns.length - 1));
        saveConversation();
      }
      log.appendChild(node);
      setBusy(false);
      announce(spokenAnswer(data));
      keepInView(userNode, node);
      loadSuggestions(node, turn);
    } catch (err) {
      // The question goes back into the box so it can be sent again.
      userNode.remove();
      if (!conversation || !conversation.turns.length) showWelcome(!serverHistory);
      input.value = question;
      autosize();
      updateCounter();
      if (err.code === "not_ready") {
        // Loading after all (e.g. the server restarted): wait for it, then send.
        starting = true;
        waiting = { alone: !!alone };
        startText = "";
        window.setTimeout(function () { watchStartup(0); }, 1000);
      } else if (err instanceof TypeError) {
        showError(pageStrings.error_network);
        watchReconnect(0);
      } else {
        showError(err.message);
      }
    } finally {
      if (busy) setBusy(false);
      input.focus({ preventScroll: true });
    }
  }

  async function loadSuggestions(node, turn) {
    var answer = turn.answer;
    var source = answer.citations[0] || answer.related[0];
    if (!source) return;
    var query = new URLSearchParams({ doc_id: source.doc_id, chunk_id: source.chunk_id, lang: answer.language,
                                      include_own: answer.citations.length ? "false" : "true" });
    try {
      var response = await fetch("/api/suggestions?" + query.toString(), { headers: { "Accept": "application/json" } });
      if (!response.ok) return;
      var data = await response.json();
      var questions = (data.questions || []).filter(function (q) { return typeof q === "string"; }).slice(0, 3);
      if (!questions.length || !node.isConnected) return;
      turn.suggestions = questions;
      node.appendChild(suggestionSection(STRINGS[answer.language] || pageStrings, questions));
      if (conversation && conversation.turns.indexOf(turn) >= 0) saveConversation();
    } catch (e) { /* suggestions are optional */ }
  }

  // ---- per-answer actions -----------------------------------------------------------------------

  async function copyText(text) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch (e) {
      // Without clipboard permission: the old way, through a selected off-screen textarea.
      var area = el("textarea", "visually-hidden");
      area.value = text;
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e2) { ok = false; }
      area.remove();
      return ok;
    }
  }

  function setActionStatus(article, text) {
    article.querySelector(".action-status").textContent = text;
    announce(text);
  }

  async function sendFeedback(article, rating) {
    var found = turnFor(article);
    if (!found) return;
    var turn = found.turn;
    var strings = STRINGS[turn.answer.language] || pageStrings;
    if (turn.feedback && turn.feedback.rating === rating) return;
    var question = conversation.turns[found.index - 1];
    var answer = turn.answer;
    var url = "/api/feedback";
    var method = "POST";
    var body;
    if (turn.feedback && turn.feedback.id) {
      url += "/" + encodeURIComponent(turn.feedback.id);
      method = "PATCH";
      body = { rating: rating };
    } else {
      body = {
        rating: rating, question: question ? question.content : "", answer: answer.answer,
        index_version: answer.index_version, language: answer.language,
        citations: answer.citations.map(function (c) {
          return { n: c.n, doc_id: c.doc_id, chunk_id: c.chunk_id, title: c.title, section: c.section,
                   highlight: c.highlight };
        }),
      };
    }
    try {
      var response = await fetch(url, {
        method: method, headers: { "Content-Type": "application/json", "Accept": "application/json" },
        body: JSON.stringify(body),
      });
      var data = await response.json().catch(function () { return null; });
      if (!response.ok || !data || !data.id) throw new Error(errorMessage(response.status, data));
      turn.feedback = { id: data.id, rating: data.rating, comment: data.comment };
      saveConversation();
      article.querySelector("[data-action=feedback-up]").setAttribute("aria-pressed", String(rating === "up"));
      article.querySelector("[data-action=feedback-down]").setAttribute("aria-pressed", String(rating === "down"));
      var commentForm = article.querySelector(".feedback-form");
      if (!data.comment) commentForm.hidden = false;
      setActionStatus(article, strings.feedback_thanks);
    } catch (err) {
      setActionStatus(article, strings.feedback_failed + " " + (err instanceof TypeError ? pageStrings.error_network : err.message));
    }
  }

  async function sendComment(article) {
    var found = turnFor(article);
    if (!found || !found.turn.feedback) return;
    var turn = found.turn;
    var strings = STRINGS[turn.answer.language] || pageStrings;
    var area = article.querySelector(".feedback-comment");
    var comment = area.value.trim();
    if (!comment) {
      area.focus();
      return;
    }
    try {
      var response = await fetch("/api/feedback/" + encodeURIComponent(turn.feedback.id), {
        method: "PATCH", headers: { "Content-Type": "application/json", "Accept": "application/json" },
        body: JSON.stringify({ comment: comment }),
      });
      var data = await response.json().catch(function () { return null; });
      if (!response.ok || !data) throw new Error(errorMessage(response.status, data));
      turn.feedback.comment = data.comment;
      saveConversation();
      article.querySelector(".feedback-form").hidden = true;
      setActionStatus(article, strings.feedback_comment_thanks);
      article.querySelector("[data-action=feedback-" + turn.feedback.rating + "]").focus();
    } catch (err) {
      setActionStatus(article, strings.feedback_failed + " " + (err instanceof TypeError ? pageStrings.error_network : err.message));
    }
  }

  // ---- the list of conversations ----------------------------------------------------------------

  function formatTime(ms) {
    try {
      return new Date(ms).toLocaleString(config.lang === "ja" ? "ja-JP" : "en-GB",
                                         { dateStyle: "medium", timeStyle: "short" });
    } catch (e) {
      return new Date(ms).toISOString();
    }
  }

  function iconButton(action, icon, label) {
    var button = el("button", "icon-button");
    button.type = "button";
    button.setAttribute("data-action", action);
    button.setAttribute("aria-label", label);
    button.title = label;
    button.appendChild(svgIcon(icon));
    return button;
  }

  function renderList() {
    var data = readStore();
    listNode.textContent = "";
    emptyNote.hidden = data.items.length > 0;
    data.items.forEach(function (conv) {
      var li = el("li", "conversation-item");
      li.setAttribute("data-id", conv.id);
      var open = el("button", "conversation-open");
      open.type = "button";
      open.setAttribute("data-action", "open-conversation");
      open.appendChild(el("span", "conversation-title", titleOf(conv)));
      var questions = conv.turns.filter(function (t) { return t.role === "user"; }).length;
      var meta = formatTime(conv.updated) + " · " + plural(pageStrings, "questions_count", questions);
      open.appendChild(el("span", "conversation-meta", meta));
      if (conversation && conv.id === conversation.id) {
        li.setAttribute("aria-current", "true");
        open.appendChild(el("span", "conversation-current", pageStrings.current));
      }
      li.appendChild(open);
      li.appendChild(iconButton("rename-conversation", ICONS.rename, pageStrings.rename + ": " + titleOf(conv)));
      li.appendChild(iconButton("delete-conversation", ICONS.trash, pageStrings["delete"] + ": " + titleOf(conv)));
      listNode.appendChild(li);
    });
  }

  function startRename(li) {
    var id = li.getAttribute("data-id");
    var conv = readStore().items.filter(function (c) { return c.id === id; })[0];
    if (!conv) return;
    var edit = el("form", "conversation-rename");
    var field = el("input", "conversation-name");
    field.type = "text";
    field.value = titleOf(conv);
    field.maxLength = 120;
    field.setAttribute("aria-label", pageStrings.rename_label);
    var save = el("button", "small-button", pageStrings.save);
    save.type = "submit";
    save.setAttribute("data-action", "save-name");
    var cancel = el("button", "small-button secondary", pageStrings.cancel);
    cancel.type = "button";
    cancel.setAttribute("data-action", "cancel-rename");
    edit.appendChild(field);
    edit.appendChild(save);
    edit.appendChild(cancel);
    li.textContent = "";
    li.appendChild(edit);
    field.focus();
    field.select();
    edit.addEventListener("submit", function (event) {
      event.preventDefault();
      var title = field.value.trim().slice(0, 120);
      updateStore(function (data) {
        data.items.forEach(function (c) { if (c.id === id) c.title = title; });
      });
      if (conversation && conversation.id === id) conversation.title = title;
      renderList();
      focusItem(id, "rename-conversation");
    });
    field.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        event.preventDefault();
        renderList();
        focusItem(id, "rename-conversation");
      }
    });
  }

  function focusItem(id, action) {
    var li = listNode.querySelector('li[data-id="' + CSS.escape(id) + '"]');
    var target = li && li.querySelector("[data-action=" + action + "]");
    (target || dialog.querySelector("[data-action=close-conversations]")).focus();
  }

  function deleteConversation(li) {
    var id = li.getAttribute("data-id");
    var deleted = readStore().items.filter(function (c) { return c.id === id; })[0];
    var wasOpen = !!(conversation && conversation.id === id);
    var next = li.nextElementSibling || li.previousElementSibling;
    var nextId = next && next.getAttribute("data-id");
    updateStore(function (data) {
      data.items = data.items.filter(function (c) { return c.id !== id; });
      if (data.current === id) data.current = null;
    });
    if (conversation && conversation.id === id) {
      conversation = null;
      setTabCurrent("");
      renderConversation();
    }
    renderList();
    undoState = deleted ? { conv: deleted, wasOpen: wasOpen } : null;
    showToast(pageStrings.deleted, !!undoState);
    if (nextId) focusItem(nextId, "open-conversation");
    else dialog.querySelector("[data-action=close-conversations]").focus();
  }

  // ---- the undo toast -------------------------------------------------------------------------

  // Inside the dialog while it is open (a modal dialog makes the rest of the page inert).
  function placeToast() {
    var host = dialog.open ? dialog : toastHome;
    if (toast.parentNode !== host) host.appendChild(toast);
  }

  function showToast(text, withUndo) {
    placeToast();
    toastButton.hidden = !withUndo;
    toast.hidden = false;
    toastText.textContent = "";
    // Set after a tick, so the status region announces it.
    window.setTimeout(function () { toastText.textContent = text; }, 50);
    window.clearTimeout(toastTimer);
    toastTimer = window.setTimeout(hideToast, withUndo ? 10000 : 4000);
  }

  function hideToast() {
    window.clearTimeout(toastTimer);
    toast.hidden = true;
    undoState = null;
  }

  function undoDelete() {
    var state = undoState;
    if (!state) return;
    hideToast();
    var conv = state.conv;
    updateStore(function (data) {
      data.items = data.items.filter(function (c) { return c.id !== conv.id; });
      data.items.push(conv);
      if (state.wasOpen) data.current = conv.id;
    });
    if (state.wasOpen && !conversation && !busy) {
      conversation = conv;
      serverHistory = null;
      setTabCurrent(conv.id);
      renderConversation();
    }
    if (dialog.open) {
      renderList();
      focusItem(conv.id, "open-conversation");
    }
    showToast(pageStrings.restored, false);
  }

  function openConversation(id) {
    var data = updateStore(function (d) { d.current = id; });
    setTabCurrent(id);
    conversation = data.items.filter(function (c) { return c.id === id; })[0] || null;
    serverHistory = null;
    errorBox.hidden = true;
    renderConversation();
    dialog.close();
    window.scrollTo(0, 0);
    input.focus({ preventScroll: true });
  }

  function newConversation() {
    if (busy) return;
    conversation = null;
    serverHistory = null;
    updateStore(function (data) { data.current = null; });
    setTabCurrent("");
    errorBox.hidden = true;
    renderConversation();
    window.scrollTo(0, 0);
    input.focus();
  }

  // ---- start-up -----------------------------------------------------------------------------------

  // What the server is doing while it starts, from /api/health's `build` (the first build's
  // progress when it starts without an index).
  function startingText(build) {
    if (!build) return pageStrings.starting;
    var total = build.documents_total;
    if (!total) return pageStrings.build_reading;
    if (build.stage === "reading" || build.stage === "splitting") {
      return fmt(pageStrings.build_docs, { done: build.documents_done, total: total });
    }
    if (build.stage === "embedding" && build.rows_total) {
      return fmt(pageStrings.build_embed, { total: total, pct: Math.floor(100 * build.rows_done / build.rows_total) });
    }
    return fmt(pageStrings.build_finish, { total: total });
  }

  // While the server is loading (its model, its first index), Send is off and the page says what
  // is happening; a question asked meanwhile is sent once the server is ready.
  async function watchStartup(attempt) {
    var data = null;
    try {
      var response = await fetch("/api/health", { headers: { "Accept": "application/json" } });
      data = await response.json().catch(function () { return null; });
    } catch (e) {
      // Not reachable: keep waiting while we know it is starting; else the first question says so.
      if (starting && attempt < 3600) window.setTimeout(function () { watchStartup(attempt + 1); }, 2000);
      return;
    }
    if (data && data.status === "loading" && attempt < 3600) {
      starting = true;
      startText = startingText(data.build);
      if (!busy) setBusy(false);
      window.setTimeout(function () { watchStartup(attempt + 1); }, 1000);
      return;
    }
    if (starting) {
      starting = false;
      startText = "";
      errorBox.hidden = true;
      var queued = waiting;
      waiting = null;
      if (!busy) setBusy(false);
      announce(pageStrings.ready);
      if (queued && input.value.trim()) ask(input.value, queued.alone);
    }
  }

  // After a network error: poll health until the server answers, then say so and offer to send
  // the question (still in the box) again.
  function watchReconnect(attempt) {
    window.clearTimeout(reconnectTimer);
    reconnectTimer = window.setTimeout(async function () {
      var data = null;
      try {
        var response = await fetch("/api/health", { headers: { "Accept": "application/json" } });
        data = await response.json().catch(function () { return null; });
      } catch (e) {
        if (attempt < 1800) watchReconnect(attempt + 1);
        return;
      }
      errorBox.hidden = true;
      if (data && data.status === "loading") {
        // Back, but starting again: the question waits and goes when it is ready.
        starting = true;
        waiting = { alone: false };
        watchStartup(0);
        return;
      }
      reconnected.hidden = false;
    }, attempt === 0 ? 500 : 2000);
  }

  function restore() {
    if (log.querySelector("article.turn")) {
      // The no-script form answered this page: continue from its hidden fields.
      serverHistory = readHiddenHistory();
      return;
    }
    var data = readStore();
    // This tab's conversation; a new tab opens the one used last.
    var id = tabCurrent();
    if (id === null) id = data.current;
    conversation = data.items.filter(function (c) { return c.id === id; })[0] || null;
    renderConversation();
    var back = null;
    try {
      back = sessionStorage.getItem(RETURN_KEY);
      sessionStorage.removeItem(RETURN_KEY);
    } catch (e) { back = null; }
    var card = back && document.getElementById(back);
    if (card) card.scrollIntoView({ block: "center" });
    else {
      // Where the conversation left off: the start of its last answer.
      var answers = log.querySelectorAll("article.turn-bot");
      if (answers.length) answers[answers.length - 1].scrollIntoView({ block: "start" });
    }
  }

  // ---- events ---------------------------------------------------------------------------------------

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var button = event.submitter;
    if (button && button.name === "suggested" && button.value) ask(button.value);
    else if (button && button.name === "standalone" && button.value) ask(button.value, true);
    else ask(input.value);
  });

  input.addEventListener("keydown", function (event) {
    // Enter sends; Shift+Enter is a new line; Enter that confirms IME conversion does nothing.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      ask(input.value);
    }
  });
  input.addEventListener("input", function () {
    autosize();
    updateCounter();
  });

  var examples = document.querySelector("form.examples");
  if (examples) {
    examples.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = event.submitter;
      if (button && button.value) ask(button.value);
    });
  }

  log.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target : null;
    if (!target) return;
    // Move keyboard focus to the card a [n] link points to, so Tab continues from there.
    var ref = target.closest("a.cite-ref");
    if (ref) {
      var card = document.getElementById(ref.getAttribute("href").slice(1));
      if (!card) return;
      event.preventDefault();
      card.scrollIntoView({ block: "center", behavior: scrollBehavior() });
      card.focus({ preventScroll: true });
      card.classList.remove("flash");
      void card.offsetWidth;
      card.classList.add("flash");
      return;
    }
    var source = target.closest("a.card-source");
    if (source) {
      // Coming back (link, Back, reload) returns to this card.
      var li = source.closest("li.card");
      try { if (li && li.id) sessionStorage.setItem(RETURN_KEY, li.id); } catch (e) { /* optional */ }
      return;
    }
    var button = target.closest("button[data-action]");
    if (!button) return;
    var article = button.closest("article.turn-bot");
    var action = button.getAttribute("data-action");
    if (action === "copy") {
      var found = turnFor(article);
      if (!found) return;
      var strings = STRINGS[found.turn.answer.language] || pageStrings;
      copyText(plainAnswer(found.turn.answer)).then(function (ok) {
        setActionStatus(article, ok ? strings.copied : strings.copy_failed);
      });
    } else if (action === "feedback-up" || action === "feedback-down") {
      sendFeedback(article, action === "feedback-up" ? "up" : "down");
    } else if (action === "suggestion") {
      ask(button.value);
    } else if (action === "standalone") {
      ask(button.value, true);
    }
  });

  log.addEventListener("submit", function (event) {
    var commentForm = event.target.closest(".feedback-form");
    if (!commentForm) return;
    event.preventDefault();
    sendComment(commentForm.closest("article.turn-bot"));
  });

  document.getElementById("new-conversation").addEventListener("click", function (event) {
    event.preventDefault();
    newConversation();
  });

  listButton.hidden = false;
  listButton.addEventListener("click", function () {
    renderList();
    dialog.showModal();
    placeToast();
    var current = listNode.querySelector("li[aria-current] [data-action=open-conversation]");
    (current || dialog.querySelector("[data-action=close-conversations]")).focus();
  });

  dialog.addEventListener("click", function (event) {
    if (event.target === dialog) {  // the backdrop
      dialog.close();
      return;
    }
    var button = event.target.closest("button[data-action]");
    if (!button) return;
    var li = button.closest("li.conversation-item");
    var action = button.getAttribute("data-action");
    if (action === "close-conversations") dialog.close();
    else if (action === "open-conversation") openConversation(li.getAttribute("data-id"));
    else if (action === "rename-conversation") startRename(li);
    else if (action === "delete-conversation") deleteConversation(li);
    else if (action === "cancel-rename") {
      var id = li.getAttribute("data-id");
      renderList();
      focusItem(id, "rename-conversation");
    }
  });
  dialog.addEventListener("close", function () {
    placeToast();
    listButton.focus({ preventScroll: true });
  });

  toast.addEventListener("click", function (event) {
    if (event.target.closest("[data-action=undo]")) undoDelete();
  });

  reconnected.addEventListener("click", function (event) {
    if (!event.target.closest("[data-action=resend]")) return;
    reconnected.hidden = true;
    ask(input.value);
  });

  // Back/forward cache: the page comes back as it was left, but another tab may have changed the
  // store since.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted && !busy) restore();
  });

  // Another tab renamed or deleted a conversation: keep the open list true.
  window.addEventListener("storage", function (event) {
    if (event.key === STORE_KEY && dialog.open) renderList();
  });

  restore();
  updateCounter();
  watchStartup(0);
})();
