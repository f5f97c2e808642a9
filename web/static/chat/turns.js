// Turns as the server renders them, so the script writes no turn markup of its own: answers come
// from POST /fragments/answer (the template the no-script page uses, templates/_answer.html),
// questions and answers it could not have rendered from the page's <template> elements.
//
// A fragment is the server's autoescaped rendering: document text in it is text, never markup.
// It is kept with its turn in the saved conversation (`turn.view`), so a reload shows the
// conversation at once; it is used only for the same page language, markup version and turn id.

import { LANG, MARKUP, fmt, plural, stringsFor } from "./page.js";
import { showFeedback } from "./tools.js";

const userTemplate = document.getElementById("user-turn-template");
const pastTemplate = document.getElementById("past-turn-template");

function fromTemplate(template, text) {
  const node = template.content.firstElementChild.cloneNode(true);
  node.querySelector(".answer-text").textContent = text;
  return node;
}

export function userTurn(text) {
  return fromTemplate(userTemplate, text);
}

function viewKey(tid) {
  return [LANG, MARKUP, tid].join(" ");
}

export function hasRendering(turn, tid) {
  return !!(turn.view && turn.view.key === viewKey(tid));
}

// The answer as the page shows it; `tid` makes its ids unique in the page ("#cite-j2-1").
async function fetchRendering(answer, tid, question, suggestions) {
  const response = await fetch("/fragments/answer", {
    method: "POST",
    headers: { "Content-Type": "application/json", "Accept": "text/html" },
    body: JSON.stringify({ answer, turn: tid, question: question || null, lang: LANG,
                           suggestions: suggestions || [] }),
  });
  if (!response.ok) throw new Error("HTTP " + response.status);
  return response.text();
}

function parse(html) {
  const holder = document.createElement("template");
  holder.innerHTML = html;
  return holder.content.querySelector("article.turn-bot");
}

// Has the server render an assistant turn as turn `tid` unless its saved rendering fits; false
// when it cannot (the turn then shows its text alone).
export async function render(turn, tid, question) {
  if (hasRendering(turn, tid)) return true;
  try {
    turn.view = { key: viewKey(tid), html: await fetchRendering(turn.answer, tid, question, turn.suggestions) };
    return true;
  } catch (e) {
    return false;
  }
}

// The node of an assistant turn (at `index` in its conversation, or null when it is not saved)
// with the reader's feedback on it.
export function answerNode(turn, tid, index) {
  const rendered = hasRendering(turn, tid) ? parse(turn.view.html) : null;
  const article = rendered || fromTemplate(pastTemplate, turn.answer.answer);
  if (index !== null) article.setAttribute("data-index", String(index));
  if (rendered) showFeedback(article, turn.feedback);
  return article;
}

// Suggested next questions under a shown answer, rendered with it; true once they are there.
export async function addSuggestions(article, turn, tid, question, questions) {
  const html = await fetchRendering(turn.answer, tid, question, questions);
  const fresh = parse(html);
  const section = fresh && fresh.querySelector("section.suggestions");
  // An answer shown by its text alone (its rendering failed) stays as it is.
  if (!section || !article.isConnected || article.classList.contains("past")) return false;
  turn.suggestions = questions;
  turn.view = { key: viewKey(tid), html };
  article.appendChild(section);
  return true;
}

// What a screen reader hears once per answer: its state, its lead text as shown (an English
// answer's statement, not the folded Japanese quotes an English voice would mangle) with each
// [n] read as its label (「出典1」), and how many sources it cites.
export function spokenAnswer(article, answer) {
  const strings = stringsFor(answer.language);
  const state = article.getAttribute("data-state");
  const lead = article.querySelector(".bubble .answer-text");
  let text = "";
  for (const part of lead ? lead.childNodes : []) {
    const ref = part.nodeType === Node.ELEMENT_NODE && part.matches("a.cite-ref");
    text += ref ? fmt(strings.link_suffix, { label: part.getAttribute("aria-label") }) : part.textContent;
  }
  const extra = answer.citations.length ? " " + plural(strings, "sources_count", answer.citations.length) : "";
  const stop = answer.language === "ja" ? "。" : ". ";
  const prefix = state === "not_found" ? strings.not_found_title + stop :
    state === "partial" ? strings.partial_title + stop : "";
  return strings.answer_announce + ": " + prefix + text + extra;
}
