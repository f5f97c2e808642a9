// The question box and what is said above it: the character counter, the pending or start-up
// line, and the error banner, in the page's language.

import { LIMITS, el, fmt, nodes, pageStrings, state } from "./page.js";

const { input, counter, errorBox, log, pending, pendingText, sendButton } = nodes;

export function autosize() {
  input.style.height = "auto";
  input.style.height = Math.min(input.scrollHeight, 200) + "px";
}

export function updateCounter() {
  const n = input.value.length;
  const max = LIMITS.question;
  const near = n >= Math.floor(max * 0.8);
  counter.hidden = !near;
  counter.textContent = near ? fmt(pageStrings.counter, { n, max }) : "";
  counter.classList.toggle("over", n > max);
  if (n > max) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

// The question back in the box (after a failure, or while it waits for the server).
export function refill(question) {
  input.value = question;
  autosize();
  updateCounter();
}

export function setBusy(on, text) {
  state.busy = on;
  sendButton.disabled = on || state.starting;
  // Still starting up: that stays said (with the build's progress) until the server is ready.
  pending.hidden = !on && !state.starting;
  const startLine = (state.startText || pageStrings.starting) + (state.waiting ? " — " + pageStrings.queued : "");
  pendingText.textContent = on ? text : (state.starting ? startLine : "");
  if (on) log.setAttribute("aria-busy", "true");
  else log.removeAttribute("aria-busy");
}

export function showError(message) {
  errorBox.textContent = "";
  errorBox.appendChild(el("strong", null, pageStrings.error_title + ": "));
  errorBox.appendChild(document.createTextNode(message));
  errorBox.hidden = false;
}

export function hideError() {
  errorBox.hidden = true;
}

// Errors in the page's language: by the API's error code, else by status.
export function errorMessage(status, data) {
  const code = data && typeof data.error === "string" ? data.error : "";
  const known = code && pageStrings["error_" + code];
  if (known) return known;
  if (status === 429) return pageStrings.error_too_many_requests;
  if (status === 503) return pageStrings.error_unavailable;
  return pageStrings.error_generic + " (HTTP " + status + ")";
}
