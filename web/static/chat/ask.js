// Asking: a question goes to /api/ask with the conversation's history, its answer is rendered by
// the server and saved; suggested next questions follow. While the server starts, a question
// waits and goes when it is ready; after a network error, the page offers to send it again.

import { LIMITS, announce, fmt, nodes, pageStrings, state } from "./page.js";
import { TITLE_CHARS, newId, saveConversation } from "./store.js";
import { answerNode, addSuggestions, render, spokenAnswer, userTurn } from "./turns.js";
import { answerCount, keepInView, showWelcome, whenShown } from "./log.js";
import { errorMessage, hideError, refill, setBusy, showError } from "./composer.js";

const { input, log, examplesMenu, reconnected } = nodes;
let reconnectTimer = null;

// The turns as the API takes them: questions and answer texts.
function textHistory() {
  if (state.serverHistory) return state.serverHistory;
  if (!state.conversation) return [];
  return state.conversation.turns.map((t) => ({ role: t.role, content: t.role === "user" ? t.content : t.answer.answer }));
}

// Same rule as web/view.py fit_history: the newest turns within the API's limits.
function fitHistory(turns) {
  const kept = [];
  let total = 0;
  for (let i = turns.length - 1; i >= 0; i--) {
    const size = turns[i].content.length;
    if (kept.length >= LIMITS.turns || total + size > LIMITS.chars) break;
    kept.unshift(turns[i]);
    total += size;
  }
  return kept;
}

async function fetchAnswer(question, alone) {
  const response = await fetch("/api/ask", {
    method: "POST",
    headers: { "Content-Type": "application/json", "Accept": "application/json" },
    body: JSON.stringify({ question, history: alone ? [] : fitHistory(textHistory()), top_k: 3 }),
  });
  const data = await response.json().catch(() => null);
  if (!response.ok || !data || typeof data.answer !== "string") {
    const failure = new Error(errorMessage(response.status, data));
    failure.code = data && data.error;
    throw failure;
  }
  return data;
}

export async function ask(question, alone) {
  if (state.busy) return;
  const text = question.trim();
  if (!text) {
    input.focus();
    return;
  }
  if (question.length > LIMITS.question) {
    showError(fmt(pageStrings.too_long, { over: question.length - LIMITS.question, max: LIMITS.question }));
    input.focus();
    return;
  }
  if (state.starting) {
    // The server is not ready: the question waits in the box and goes when it is.
    state.waiting = { alone: !!alone };
    refill(question);
    setBusy(false);
    announce(pageStrings.queued);
    return;
  }
  hideError();
  reconnected.hidden = true;
  window.clearTimeout(reconnectTimer);
  setBusy(true, pageStrings.pending);
  await whenShown();
  showWelcome(false);
  examplesMenu.open = false;
  const userNode = userTurn(question);
  log.appendChild(userNode);
  refill("");
  try {
    const data = await fetchAnswer(question, alone);
    const turn = { role: "assistant", answer: data };
    const tid = "j" + (answerCount() + 1);
    await render(turn, tid, question);
    let index = null;
    if (state.serverHistory) {
      state.serverHistory.push({ role: "user", content: text }, { role: "assistant", content: data.answer });
    } else {
      if (!state.conversation) {
        const now = Date.now();
        state.conversation = { id: newId(), title: text.slice(0, TITLE_CHARS), created: now, updated: now, turns: [] };
      }
      state.conversation.turns.push({ role: "user", content: question }, turn);
      index = state.conversation.turns.length - 1;
      saveConversation(state.conversation);
    }
    const node = answerNode(turn, tid, index);
    log.appendChild(node);
    setBusy(false);
    announce(spokenAnswer(node, data));
    keepInView(userNode, node);
    loadSuggestions(node, turn, tid, question);
  } catch (err) {
    // The question goes back into the box so it can be sent again.
    userNode.remove();
    if (!state.conversation || !state.conversation.turns.length) showWelcome(!state.serverHistory);
    refill(question);
    if (err.code === "not_ready") {
      // Loading after all (e.g. the server restarted): wait for it, then send.
      state.starting = true;
      state.waiting = { alone: !!alone };
      state.startText = "";
      window.setTimeout(() => watchStartup(0), 1000);
    } else if (err instanceof TypeError) {
      showError(pageStrings.error_network);
      watchReconnect(0);
    } else {
      showError(err.message);
    }
  } finally {
    if (state.busy) setBusy(false);
    input.focus({ preventScroll: true });
  }
}

async function loadSuggestions(node, turn, tid, question) {
  const answer = turn.answer;
  const source = answer.citations[0] || answer.related[0];
  if (!source) return;
  const query = new URLSearchParams({ doc_id: source.doc_id, chunk_id: source.chunk_id, lang: answer.language,
                                      include_own: answer.citations.length ? "false" : "true" });
  try {
    const response = await fetch("/api/suggestions?" + query.toString(), { headers: { "Accept": "application/json" } });
    if (!response.ok) return;
    const data = await response.json();
    const questions = (data.questions || []).filter((q) => typeof q === "string").slice(0, 3);
    if (!questions.length || !node.isConnected) return;
    if (!(await addSuggestions(node, turn, tid, question, questions))) return;
    if (state.conversation && state.conversation.turns.includes(turn)) saveConversation(state.conversation);
  } catch (e) { /* suggestions are optional */ }
}

async function health() {
  const response = await fetch("/api/health", { headers: { "Accept": "application/json" } });
  return response.json().catch(() => null);
}

// What the server is doing while it starts, from /api/health's `build` (the first build's
// progress when it starts without an index).
function startingText(build) {
  if (!build) return pageStrings.starting;
  const total = build.documents_total;
  if (!total) return pageStrings.build_reading;
  if (build.stage === "reading" || build.stage === "splitting") {
    return fmt(pageStrings.build_docs, { done: build.documents_done, total });
  }
  if (build.stage === "embedding" && build.rows_total) {
    return fmt(pageStrings.build_embed, { total, pct: Math.floor(100 * build.rows_done / build.rows_total) });
  }
  return fmt(pageStrings.build_finish, { total });
}

// While the server is loading (its model, its first index), Send is off and the page says what
// is happening; a question asked meanwhile is sent once the server is ready.
export async function watchStartup(attempt) {
  let data = null;
  try {
    data = await health();
  } catch (e) {
    // Not reachable: keep waiting while we know it is starting; else the first question says so.
    if (state.starting && attempt < 3600) window.setTimeout(() => watchStartup(attempt + 1), 2000);
    return;
  }
  if (data && data.status === "loading" && attempt < 3600) {
    state.starting = true;
    state.startText = startingText(data.build);
    if (!state.busy) setBusy(false);
    window.setTimeout(() => watchStartup(attempt + 1), 1000);
    return;
  }
  if (state.starting) {
    state.starting = false;
    state.startText = "";
    hideError();
    const queued = state.waiting;
    state.waiting = null;
    if (!state.busy) setBusy(false);
    announce(pageStrings.ready);
    if (queued && input.value.trim()) ask(input.value, queued.alone);
  }
}

// After a network error: poll health until the server answers, then say so and offer to send
// the question (still in the box) again.
function watchReconnect(attempt) {
  window.clearTimeout(reconnectTimer);
  reconnectTimer = window.setTimeout(async () => {
    let data = null;
    try {
      data = await health();
    } catch (e) {
      if (attempt < 1800) watchReconnect(attempt + 1);
      return;
    }
    hideError();
    if (data && data.status === "loading") {
      // Back, but starting again: the question waits and goes when it is ready.
      state.starting = true;
      state.waiting = { alone: false };
      watchStartup(0);
      return;
    }
    reconnected.hidden = false;
  }, attempt === 0 ? 500 : 2000);
}
