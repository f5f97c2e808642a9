// The page's configuration (the #ui-strings JSON the server writes), its fixed elements, and the
// small helpers every other module uses.

const config = JSON.parse(document.getElementById("ui-strings").textContent);

export const LANG = config.lang;
export const STRINGS = config.strings;
export const LIMITS = config.limits;
// Changes whenever the server would render an answer differently (see web/routes/pages.py).
export const MARKUP = config.markup;
export const pageStrings = STRINGS[LANG] || STRINGS.ja;

export const nodes = {
  form: document.getElementById("ask-form"),
  input: document.getElementById("question"),
  log: document.getElementById("log"),
  welcome: document.getElementById("welcome"),
  examplesMenu: document.getElementById("examples-menu"),
  pending: document.getElementById("pending"),
  pendingText: document.getElementById("pending-text"),
  errorBox: document.getElementById("error"),
  reconnected: document.getElementById("reconnected"),
  announcer: document.getElementById("announcer"),
  counter: document.getElementById("counter"),
  dialog: document.getElementById("conversations"),
  listNode: document.getElementById("conversation-list"),
  emptyNote: document.getElementById("conversations-empty"),
  listButton: document.getElementById("conversations-button"),
  toast: document.getElementById("toast"),
  toastText: document.getElementById("toast-text"),
};
nodes.sendButton = nodes.form.querySelector("button.send");

// What the page is doing; one object, so every module sees the same values.
export const state = {
  busy: false,
  // While the server starts: what it is doing (from /api/health), and whether a question waits.
  starting: false,
  startText: "",
  waiting: null,  // {alone: bool} when a question waits in the box for the server
  // The conversation on screen: null until its first question is answered.
  conversation: null,
  // Set when the server rendered turns itself (the no-script form was used): those stay as they are.
  serverHistory: null,
};

export function stringsFor(lang) {
  return STRINGS[lang] || pageStrings;
}

export function fmt(template, values) {
  return template.replace(/\{(\w+)\}/g, (_, key) => String(values[key]));
}

// "1 question" / "2 questions": a language's "_one" string when n is 1.
export function plural(strings, key, n) {
  const k = n === 1 && strings[key + "_one"] ? key + "_one" : key;
  return fmt(strings[k], { n });
}

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

export function svgIcon(path) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  for (const [name, value] of [["class", "icon"], ["viewBox", "0 0 24 24"], ["width", "18"], ["height", "18"],
                               ["aria-hidden", "true"], ["focusable", "false"]]) {
    svg.setAttribute(name, value);
  }
  const p = document.createElementNS(ns, "path");
  for (const [name, value] of [["d", path], ["fill", "none"], ["stroke", "currentColor"], ["stroke-width", "2"],
                               ["stroke-linecap", "round"], ["stroke-linejoin", "round"]]) {
    p.setAttribute(name, value);
  }
  svg.appendChild(p);
  return svg;
}

const reducedMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

export function scrollBehavior() {
  return reducedMotion ? "auto" : "smooth";
}

export function announce(text) {
  // Cleared first, so the same message twice is announced twice.
  nodes.announcer.textContent = "";
  window.setTimeout(() => { nodes.announcer.textContent = text; }, 50);
}
