// The chat, enhanced: questions go to /api/ask without a page reload, conversations are kept in
// this browser (localStorage) and restored on reload, language switch, return from a document
// and Back. Without this script the same form posts to "/" and the server renders the answer
// (see web/routes/pages.py); with it, the server renders each answer from the same template
// (POST /fragments/answer), so both show the same markup.
//
// The modules in chat/:
//   page.js           the page's strings and limits, its elements, the shared state, helpers
//   store.js          saved conversations (localStorage) and this tab's place (sessionStorage)
//   turns.js          turns as the server renders them; what a screen reader hears of an answer
//   log.js            the conversation on screen: restoring it, the welcome, scrolling
//   composer.js       the question box, the pending line, errors in the page's language
//   ask.js            asking, suggestions, waiting for a starting server, reconnecting
//   tools.js          copy and feedback on an answer
//   conversations.js  the list of conversations, rename, delete and undo, a new conversation
//
// Untrusted text (questions, answers) enters the page through textContent only; document text
// arrives inside the server's autoescaped rendering of an answer.

import { nodes, scrollBehavior, state } from "./chat/page.js";
import { readStore, setReturnTo, tabCurrent, takeReturnTo } from "./chat/store.js";
import { renderConversation } from "./chat/log.js";
import { autosize, updateCounter } from "./chat/composer.js";
import { ask, watchStartup } from "./chat/ask.js";
import { copyAnswer, sendComment, sendFeedback } from "./chat/tools.js";
import { installConversations } from "./chat/conversations.js";

const { form, input, log, reconnected } = nodes;
// The no-script form answered this page: the conversation is the server's (its hidden fields).
const formAnswered = !!log.querySelector("article.turn");

// The conversation the server rendered into hidden fields (no-script form posts only).
function readHiddenHistory() {
  const roles = form.querySelectorAll("input[name=history_role]");
  const contents = form.querySelectorAll("input[name=history_content]");
  const turns = [];
  for (let i = 0; i < roles.length && i < contents.length; i++) {
    turns.push({ role: roles[i].value, content: contents[i].value });
  }
  return turns;
}

function restore() {
  if (formAnswered) {
    state.serverHistory = readHiddenHistory();
    return;
  }
  const data = readStore();
  // This tab's conversation; a new tab opens the one used last.
  let id = tabCurrent();
  if (id === null) id = data.current;
  state.conversation = data.items.find((c) => c.id === id) || null;
  const back = takeReturnTo();
  renderConversation().then(() => {
    const card = back && document.getElementById(back);
    if (card) {
      card.scrollIntoView({ block: "center" });
      return;
    }
    // Where the conversation left off: the start of its last answer.
    const answers = log.querySelectorAll("article.turn-bot");
    if (answers.length) answers[answers.length - 1].scrollIntoView({ block: "start" });
  });
}

// Suggested and example questions and "search without the conversation" are submit buttons of
// this form (they work without the script too).
form.addEventListener("submit", (event) => {
  event.preventDefault();
  const button = event.submitter;
  if (button && button.name === "suggested" && button.value) ask(button.value);
  else if (button && button.name === "standalone" && button.value) ask(button.value, true);
  else ask(input.value);
});

input.addEventListener("keydown", (event) => {
  // Enter sends; Shift+Enter is a new line; Enter that confirms IME conversion does nothing.
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
    event.preventDefault();
    ask(input.value);
  }
});
input.addEventListener("input", () => {
  autosize();
  updateCounter();
});

const examples = document.querySelector("form.examples");
if (examples) {
  examples.addEventListener("submit", (event) => {
    event.preventDefault();
    const button = event.submitter;
    if (button && button.value) ask(button.value);
  });
}

log.addEventListener("click", (event) => {
  const target = event.target.closest ? event.target : null;
  if (!target) return;
  // Move keyboard focus to the card a [n] link points to, so Tab continues from there.
  const ref = target.closest("a.cite-ref");
  if (ref) {
    const card = document.getElementById(ref.getAttribute("href").slice(1));
    if (!card) return;
    event.preventDefault();
    card.scrollIntoView({ block: "center", behavior: scrollBehavior() });
    card.focus({ preventScroll: true });
    card.classList.remove("flash");
    void card.offsetWidth;
    card.classList.add("flash");
    return;
  }
  const source = target.closest("a.card-source");
  if (source) {
    // Coming back (link, Back, reload) returns to this card.
    const li = source.closest("li.card");
    if (li && li.id) setReturnTo(li.id);
    return;
  }
  const button = target.closest("button[data-action]");
  if (!button) return;
  const article = button.closest("article.turn-bot");
  const action = button.getAttribute("data-action");
  if (action === "copy") copyAnswer(article);
  else if (action === "feedback-up" || action === "feedback-down") {
    sendFeedback(article, action === "feedback-up" ? "up" : "down");
  }
});

log.addEventListener("submit", (event) => {
  const commentForm = event.target.closest(".feedback-form");
  if (!commentForm) return;
  event.preventDefault();
  sendComment(commentForm.closest("article.turn-bot"));
});

reconnected.addEventListener("click", (event) => {
  if (!event.target.closest("[data-action=resend]")) return;
  reconnected.hidden = true;
  ask(input.value);
});

installConversations();

// Back/forward cache: the page comes back as it was left, but another tab may have changed the
// store since.
window.addEventListener("pageshow", (event) => {
  if (event.persisted && !state.busy) restore();
});

restore();
updateCounter();
watchStartup(0);
