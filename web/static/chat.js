// The chat, enhanced: questions go to /api/ask without a page reload. Without this script the
// same form posts to "/" and the server renders the answer (see web/pages.py).
//
// Untrusted text (questions, answers, document passages) only ever enters the page through
// textContent / createTextNode — never innerHTML. The markup mirrors templates/_answer.html.
"use strict";

(function () {
  var config = JSON.parse(document.getElementById("ui-strings").textContent);
  var STRINGS = config.strings;
  var LIMITS = config.limits;
  var form = document.getElementById("ask-form");
  var input = document.getElementById("question");
  var sendButton = form.querySelector("button[type=submit]");
  var log = document.getElementById("log");
  var pending = document.getElementById("pending");
  var errorBox = document.getElementById("error");
  var pageStrings = STRINGS[config.lang] || STRINGS.ja;
  var history = readHistory();
  var turnCount = 0;
  var busy = false;

  // The conversation so far, as the server rendered it into hidden fields.
  function readHistory() {
    var roles = form.querySelectorAll("input[name=history_role]");
    var contents = form.querySelectorAll("input[name=history_content]");
    var turns = [];
    for (var i = 0; i < roles.length && i < contents.length; i++) {
      turns.push({ role: roles[i].value, content: contents[i].value });
    }
    return turns;
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

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  // Mirrors web/view.py anchor() and source_href().
  function anchor(chunkId) {
    return "p-" + chunkId.replace(/[^A-Za-z0-9_-]/g, "-");
  }

  function sourceHref(docId, chunkId, highlight) {
    var path = docId.split("/").map(encodeURIComponent).join("/");
    var query = "chunk=" + encodeURIComponent(chunkId);
    if (highlight) query += "&hl=" + Number(highlight[0]) + "-" + Number(highlight[1]);
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

  function safeUrl(url) {
    if (!url) return null;
    try {
      var parsed = new URL(url);
      return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
    } catch (e) {
      return null;
    }
  }

  function turnLabel(text) {
    return el("p", "turn-label", text);
  }

  function userTurn(text) {
    var article = el("article", "turn turn-user");
    article.appendChild(turnLabel(pageStrings.you));
    var bubble = el("div", "bubble");
    bubble.appendChild(el("p", "answer-text", text));
    article.appendChild(bubble);
    return article;
  }

  // The answer text with its [n] markers turned into links to the citation cards.
  function answerParagraph(answer, tid) {
    var p = el("p", "answer-text");
    var known = {};
    answer.citations.forEach(function (c) { known[c.n] = true; });
    var re = /\[(\d+)\]/g;
    var pos = 0;
    var m;
    while ((m = re.exec(answer.answer)) !== null) {
      var n = Number(m[1]);
      if (!known[n]) continue;
      if (m.index > pos) p.appendChild(document.createTextNode(answer.answer.slice(pos, m.index)));
      var link = el("a", "cite-ref", m[0]);
      link.href = "#cite-" + tid + "-" + n;
      p.appendChild(link);
      pos = m.index + m[0].length;
    }
    if (pos < answer.answer.length) p.appendChild(document.createTextNode(answer.answer.slice(pos)));
    return p;
  }

  function passageCard(item, n, strings, tid, highlight) {
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
    }
    var titles = el("div", "card-titles");
    titles.appendChild(el("p", "card-title", item.title));
    if (item.section) titles.appendChild(el("p", "card-section", item.section));
    head.appendChild(titles);
    li.appendChild(head);

    var quote = el("blockquote", "card-text");
    excerptParts(item.text, highlight).forEach(function (part) {
      quote.appendChild(part[1] ? el("mark", null, part[0]) : document.createTextNode(part[0]));
    });
    li.appendChild(quote);

    var links = el("p", "card-links");
    var source = el("a", "card-source", strings.view_source);
    source.href = sourceHref(item.doc_id, item.chunk_id, highlight);
    links.appendChild(source);
    var url = safeUrl(item.url);
    if (url) {
      var original = el("a", "card-original", strings.original_page);
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

  function botTurn(answer, tid) {
    var strings = STRINGS[answer.language] || pageStrings;
    var article = el("article", "turn turn-bot" + (answer.found ? "" : " not-found"));
    article.setAttribute("data-found", answer.found ? "true" : "false");
    article.lang = answer.language;
    article.appendChild(turnLabel(strings.bot));
    var bubble = el("div", "bubble");
    if (answer.found) {
      bubble.appendChild(answerParagraph(answer, tid));
    } else {
      var title = el("p", "nf-title");
      var icon = el("span", "nf-icon", "?");
      icon.setAttribute("aria-hidden", "true");
      title.appendChild(icon);
      title.appendChild(document.createTextNode(strings.not_found_title));
      bubble.appendChild(title);
      bubble.appendChild(el("p", "answer-text", answer.answer));
    }
    article.appendChild(bubble);
    if (answer.citations.length) {
      var cites = cardSection(strings.sources, "ol");
      answer.citations.forEach(function (c) {
        cites.list.appendChild(passageCard(c, c.n, strings, tid, c.highlight));
      });
      article.appendChild(cites.section);
    }
    if (answer.related.length) {
      var related = cardSection(strings.related, "ul", "related");
      answer.related.forEach(function (r) {
        related.list.appendChild(passageCard(r, null, strings, tid, null));
      });
      article.appendChild(related.section);
    }
    return article;
  }

  function showError(message) {
    errorBox.textContent = "";
    var strong = el("strong", null, pageStrings.error_title + ": ");
    errorBox.appendChild(strong);
    errorBox.appendChild(document.createTextNode(message));
    errorBox.hidden = false;
  }

  function setBusy(on) {
    busy = on;
    sendButton.disabled = on;
    pending.hidden = !on;
    if (on) log.setAttribute("aria-busy", "true");
    else log.removeAttribute("aria-busy");
  }

  function autosize() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 200) + "px";
  }

  async function ask(question) {
    if (busy) return;
    var text = question.trim();
    if (!text) {
      input.focus();
      return;
    }
    errorBox.hidden = true;
    var welcome = document.getElementById("welcome");
    if (welcome) welcome.remove();
    var userNode = userTurn(question);
    log.appendChild(userNode);
    input.value = "";
    autosize();
    setBusy(true);
    pending.scrollIntoView({ block: "nearest", behavior: "smooth" });
    try {
      var response = await fetch("/api/ask", {
        method: "POST",
        headers: { "Content-Type": "application/json", "Accept": "application/json" },
        body: JSON.stringify({ question: question, history: fitHistory(history), top_k: 3 }),
      });
      var data = null;
      try {
        data = await response.json();
      } catch (e) {
        data = null;
      }
      if (!response.ok || !data || typeof data.answer !== "string") {
        throw new Error((data && data.message) || pageStrings.error_generic + " (HTTP " + response.status + ")");
      }
      turnCount += 1;
      var node = botTurn(data, "j" + turnCount);
      log.appendChild(node);
      history.push({ role: "user", content: text });
      history.push({ role: "assistant", content: data.answer });
      // The question at the top, its answer below it.
      userNode.scrollIntoView({ block: "start", behavior: "smooth" });
    } catch (err) {
      // The question goes back into the box so it can be sent again.
      userNode.remove();
      input.value = question;
      autosize();
      showError(err instanceof TypeError ? pageStrings.error_network : err.message);
    } finally {
      setBusy(false);
      input.focus();
    }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    ask(input.value);
  });

  input.addEventListener("keydown", function (event) {
    // Enter sends; Shift+Enter is a new line; Enter that confirms IME conversion does nothing.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      ask(input.value);
    }
  });
  input.addEventListener("input", autosize);

  var examples = document.querySelector("form.examples");
  if (examples) {
    examples.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = event.submitter;
      if (button && button.value) ask(button.value);
    });
  }

  // Move keyboard focus to the card a [n] link points to, so Tab continues from there.
  log.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a.cite-ref");
    if (!link) return;
    var card = document.getElementById(link.getAttribute("href").slice(1));
    if (!card) return;
    event.preventDefault();
    card.scrollIntoView({ block: "center", behavior: "smooth" });
    card.focus({ preventScroll: true });
    card.classList.remove("flash");
    void card.offsetWidth;
    card.classList.add("flash");
  });
})();
