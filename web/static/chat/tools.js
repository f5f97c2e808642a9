// An answer's tools: copy (the answer and its sources as plain text) and feedback (a rating,
// then an optional comment), kept with the answer's turn in the saved conversation.

import { announce, pageStrings, state, stringsFor } from "./page.js";
import { saveConversation } from "./store.js";
import { errorMessage } from "./composer.js";

// The saved turn a rendered answer shows, with its index in the conversation.
function turnFor(article) {
  if (!state.conversation || !article) return null;
  const index = Number(article.getAttribute("data-index"));
  const turn = state.conversation.turns[index];
  return turn && turn.role === "assistant" ? { turn, index } : null;
}

export function showFeedback(article, feedback) {
  const up = article.querySelector("[data-action=feedback-up]");
  const down = article.querySelector("[data-action=feedback-down]");
  const commentForm = article.querySelector(".feedback-form");
  if (!up || !down || !commentForm) return;
  const rating = feedback && feedback.rating;
  up.setAttribute("aria-pressed", String(rating === "up"));
  down.setAttribute("aria-pressed", String(rating === "down"));
  // The comment box opens once a rating is stored, until a comment is sent.
  commentForm.hidden = !(feedback && feedback.id && !feedback.comment);
}

function setActionStatus(article, text) {
  article.querySelector(".action-status").textContent = text;
  announce(text);
}

// The links are read from the answer's cards, so they are the ones the page shows.
function plainAnswer(answer, article) {
  const strings = stringsFor(answer.language);
  const lines = [answer.answer];
  if (answer.citations.length) {
    const cards = article.querySelectorAll("section.citations:not(.related) li.card");
    lines.push("", strings.sources + ":");
    answer.citations.forEach((c, i) => {
      lines.push("[" + c.n + "] " + c.title + (c.section ? " — " + c.section : ""));
      lines.push("    「" + c.text.slice(c.highlight[0], c.highlight[1]).trim() + "」");
      for (const link of cards[i] ? cards[i].querySelectorAll("a.card-source, a.card-original") : []) {
        lines.push("    " + link.href);
      }
    });
  }
  return lines.join("\n");
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch (e) {
    // Without clipboard permission: the old way, through a selected off-screen textarea.
    const area = document.createElement("textarea");
    area.className = "visually-hidden";
    area.value = text;
    document.body.appendChild(area);
    area.select();
    let ok = false;
    try { ok = document.execCommand("copy"); } catch (e2) { ok = false; }
    area.remove();
    return ok;
  }
}

export async function copyAnswer(article) {
  const found = turnFor(article);
  if (!found) return;
  const strings = stringsFor(found.turn.answer.language);
  const ok = await copyText(plainAnswer(found.turn.answer, article));
  setActionStatus(article, ok ? strings.copied : strings.copy_failed);
}

function failed(article, strings, err) {
  const reason = err instanceof TypeError ? pageStrings.error_network : err.message;
  setActionStatus(article, strings.feedback_failed + " " + reason);
}

export async function sendFeedback(article, rating) {
  const found = turnFor(article);
  if (!found) return;
  const turn = found.turn;
  const strings = stringsFor(turn.answer.language);
  if (turn.feedback && turn.feedback.rating === rating) return;
  const question = state.conversation.turns[found.index - 1];
  const answer = turn.answer;
  let url = "/api/feedback";
  let method = "POST";
  let body;
  if (turn.feedback && turn.feedback.id) {
    url += "/" + encodeURIComponent(turn.feedback.id);
    method = "PATCH";
    body = { rating };
  } else {
    body = {
      rating, question: question ? question.content : "", answer: answer.answer,
      index_version: answer.index_version, language: answer.language,
      citations: answer.citations.map((c) => ({ n: c.n, doc_id: c.doc_id, chunk_id: c.chunk_id, title: c.title,
                                                section: c.section, highlight: c.highlight })),
    };
  }
  try {
    const response = await fetch(url, {
      method, headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body),
    });
    const data = await response.json().catch(() => null);
    if (!response.ok || !data || !data.id) throw new Error(errorMessage(response.status, data));
    turn.feedback = { id: data.id, rating: data.rating, comment: data.comment };
    saveConversation(state.conversation);
    showFeedback(article, turn.feedback);
    setActionStatus(article, strings.feedback_thanks);
  } catch (err) {
    failed(article, strings, err);
  }
}

export async function sendComment(article) {
  const found = turnFor(article);
  if (!found || !found.turn.feedback) return;
  const turn = found.turn;
  const strings = stringsFor(turn.answer.language);
  const area = article.querySelector(".feedback-comment");
  const comment = area.value.trim();
  if (!comment) {
    area.focus();
    return;
  }
  try {
    const response = await fetch("/api/feedback/" + encodeURIComponent(turn.feedback.id), {
      method: "PATCH", headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify({ comment }),
    });
    const data = await response.json().catch(() => null);
    if (!response.ok || !data) throw new Error(errorMessage(response.status, data));
    turn.feedback.comment = data.comment;
    saveConversation(state.conversation);
    showFeedback(article, turn.feedback);
    setActionStatus(article, strings.feedback_comment_thanks);
    article.querySelector("[data-action=feedback-" + turn.feedback.rating + "]").focus();
  } catch (err) {
    failed(article, strings, err);
  }
}
