// The conversation log: the turns of the conversation on screen, the welcome while it is empty,
// and where the page scrolls.

import { nodes, scrollBehavior, state } from "./page.js";
import { keepRenderings } from "./store.js";
import { answerNode, hasRendering, render, userTurn } from "./turns.js";

const { log, welcome, examplesMenu } = nodes;
let shown = 0;  // which renderConversation call the log shows; a later one wins
let rendering = Promise.resolve();

export function showWelcome(on) {
  if (welcome) {
    if (on && !welcome.parentNode) log.insertBefore(welcome, log.firstChild);
    if (!on && welcome.parentNode) welcome.remove();
  }
  examplesMenu.hidden = on;
  if (on) examplesMenu.open = false;
}

function clearLog() {
  for (const node of log.querySelectorAll("article.turn")) node.remove();
}

function askedBefore(turns, i) {
  return i > 0 && turns[i - 1].role === "user" ? turns[i - 1].content : null;
}

function show(turns) {
  clearLog();
  showWelcome(turns.length === 0);
  let answers = 0;
  turns.forEach((turn, i) => {
    if (turn.role === "user") {
      log.appendChild(userTurn(turn.content));
    } else {
      answers += 1;
      log.appendChild(answerNode(turn, "j" + answers, i));
    }
  });
}

// Shows state.conversation: at once when every answer's rendering is saved, else (a language
// switch, a new markup version) once the server has rendered the others. Resolves when shown.
export function renderConversation() {
  const conv = state.conversation;
  const turns = conv ? conv.turns : [];
  const call = ++shown;
  const missing = [];
  let answers = 0;
  turns.forEach((turn, i) => {
    if (turn.role !== "assistant") return;
    answers += 1;
    if (!hasRendering(turn, "j" + answers)) missing.push(render(turn, "j" + answers, askedBefore(turns, i)));
  });
  if (!missing.length) {
    show(turns);
    rendering = Promise.resolve();
    return rendering;
  }
  clearLog();
  rendering = Promise.all(missing).then(() => {
    if (call !== shown) return;
    show(turns);
    keepRenderings(conv);
  });
  return rendering;
}

// Resolves once the log shows its conversation (a question asked meanwhile goes below it).
export function whenShown() {
  return rendering;
}

export function answerCount() {
  return log.querySelectorAll("article.turn-bot").length;
}

export function keepInView(question, answer) {
  // The question at the top when its answer's start still shows well below it; otherwise the
  // answer's start just under the sticky header (scroll-margin-top in app.css).
  const gap = answer.getBoundingClientRect().top - question.getBoundingClientRect().top;
  const target = gap < window.innerHeight * 0.35 ? question : answer;
  target.scrollIntoView({ block: "start", behavior: scrollBehavior() });
}
