// The list of conversations (a modal dialog): open, rename, delete with an undo toast, and
// starting a new conversation.

import { LANG, el, nodes, pageStrings, plural, state, svgIcon } from "./page.js";
import { STORE_KEY, findConversation, readStore, setTabCurrent, titleOf, updateStore } from "./store.js";
import { renderConversation } from "./log.js";
import { hideError } from "./composer.js";

const { dialog, listNode, emptyNote, listButton, toast, toastText, input } = nodes;
const toastButton = toast.querySelector("[data-action=undo]");
const toastHome = toast.parentNode;
const ICONS = {
  rename: "M4 20h4L19 9l-4-4L4 16zM13.5 6.5l4 4",
  trash: "M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13",
};
let toastTimer = null;
let undoState = null;  // the conversation just deleted, until its toast goes

function formatTime(ms) {
  try {
    return new Date(ms).toLocaleString(LANG === "ja" ? "ja-JP" : "en-GB", { dateStyle: "medium", timeStyle: "short" });
  } catch (e) {
    return new Date(ms).toISOString();
  }
}

function iconButton(action, icon, label) {
  const button = el("button", "icon-button");
  button.type = "button";
  button.setAttribute("data-action", action);
  button.setAttribute("aria-label", label);
  button.title = label;
  button.appendChild(svgIcon(icon));
  return button;
}

function renderList() {
  const data = readStore();
  listNode.textContent = "";
  emptyNote.hidden = data.items.length > 0;
  for (const conv of data.items) {
    const li = el("li", "conversation-item");
    li.setAttribute("data-id", conv.id);
    const open = el("button", "conversation-open");
    open.type = "button";
    open.setAttribute("data-action", "open-conversation");
    open.appendChild(el("span", "conversation-title", titleOf(conv)));
    const questions = conv.turns.filter((t) => t.role === "user").length;
    open.appendChild(el("span", "conversation-meta",
                        formatTime(conv.updated) + " · " + plural(pageStrings, "questions_count", questions)));
    if (state.conversation && conv.id === state.conversation.id) {
      li.setAttribute("aria-current", "true");
      open.appendChild(el("span", "conversation-current", pageStrings.current));
    }
    li.appendChild(open);
    li.appendChild(iconButton("rename-conversation", ICONS.rename, pageStrings.rename + ": " + titleOf(conv)));
    li.appendChild(iconButton("delete-conversation", ICONS.trash, pageStrings["delete"] + ": " + titleOf(conv)));
    listNode.appendChild(li);
  }
}

function focusItem(id, action) {
  const li = listNode.querySelector('li[data-id="' + CSS.escape(id) + '"]');
  const target = li && li.querySelector("[data-action=" + action + "]");
  (target || dialog.querySelector("[data-action=close-conversations]")).focus();
}

function startRename(li) {
  const id = li.getAttribute("data-id");
  const conv = findConversation(id);
  if (!conv) return;
  const edit = el("form", "conversation-rename");
  const field = el("input", "conversation-name");
  field.type = "text";
  field.value = titleOf(conv);
  field.maxLength = 120;
  field.setAttribute("aria-label", pageStrings.rename_label);
  const save = el("button", "small-button", pageStrings.save);
  save.type = "submit";
  save.setAttribute("data-action", "save-name");
  const cancel = el("button", "small-button secondary", pageStrings.cancel);
  cancel.type = "button";
  cancel.setAttribute("data-action", "cancel-rename");
  edit.append(field, save, cancel);
  li.textContent = "";
  li.appendChild(edit);
  field.focus();
  field.select();
  edit.addEventListener("submit", (event) => {
    event.preventDefault();
    const title = field.value.trim().slice(0, 120);
    updateStore((data) => {
      for (const c of data.items) if (c.id === id) c.title = title;
    });
    if (state.conversation && state.conversation.id === id) state.conversation.title = title;
    renderList();
    focusItem(id, "rename-conversation");
  });
  field.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      renderList();
      focusItem(id, "rename-conversation");
    }
  });
}

function deleteConversation(li) {
  const id = li.getAttribute("data-id");
  const deleted = findConversation(id);
  const wasOpen = !!(state.conversation && state.conversation.id === id);
  const next = li.nextElementSibling || li.previousElementSibling;
  const nextId = next && next.getAttribute("data-id");
  updateStore((data) => {
    data.items = data.items.filter((c) => c.id !== id);
    if (data.current === id) data.current = null;
  });
  if (wasOpen) {
    state.conversation = null;
    setTabCurrent("");
    renderConversation();
  }
  renderList();
  undoState = deleted ? { conv: deleted, wasOpen } : null;
  showToast(pageStrings.deleted, !!undoState);
  if (nextId) focusItem(nextId, "open-conversation");
  else dialog.querySelector("[data-action=close-conversations]").focus();
}

// Inside the dialog while it is open (a modal dialog makes the rest of the page inert).
function placeToast() {
  const host = dialog.open ? dialog : toastHome;
  if (toast.parentNode !== host) host.appendChild(toast);
}

function showToast(text, withUndo) {
  placeToast();
  toastButton.hidden = !withUndo;
  toast.hidden = false;
  toastText.textContent = "";
  // Set after a tick, so the status region announces it.
  window.setTimeout(() => { toastText.textContent = text; }, 50);
  window.clearTimeout(toastTimer);
  toastTimer = window.setTimeout(hideToast, withUndo ? 10000 : 4000);
}

function hideToast() {
  window.clearTimeout(toastTimer);
  toast.hidden = true;
  undoState = null;
}

function undoDelete() {
  const undone = undoState;
  if (!undone) return;
  hideToast();
  const conv = undone.conv;
  updateStore((data) => {
    data.items = data.items.filter((c) => c.id !== conv.id);
    data.items.push(conv);
    if (undone.wasOpen) data.current = conv.id;
  });
  if (undone.wasOpen && !state.conversation && !state.busy) {
    state.conversation = conv;
    state.serverHistory = null;
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
  const data = updateStore((d) => { d.current = id; });
  setTabCurrent(id);
  state.conversation = data.items.find((c) => c.id === id) || null;
  state.serverHistory = null;
  hideError();
  renderConversation();
  dialog.close();
  window.scrollTo(0, 0);
  input.focus({ preventScroll: true });
}

export function newConversation() {
  if (state.busy) return;
  state.conversation = null;
  state.serverHistory = null;
  updateStore((data) => { data.current = null; });
  setTabCurrent("");
  hideError();
  renderConversation();
  window.scrollTo(0, 0);
  input.focus();
}

export function installConversations() {
  listButton.hidden = false;
  listButton.addEventListener("click", () => {
    renderList();
    dialog.showModal();
    placeToast();
    const current = listNode.querySelector("li[aria-current] [data-action=open-conversation]");
    (current || dialog.querySelector("[data-action=close-conversations]")).focus();
  });

  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) {  // the backdrop
      dialog.close();
      return;
    }
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const li = button.closest("li.conversation-item");
    const action = button.getAttribute("data-action");
    if (action === "close-conversations") dialog.close();
    else if (action === "open-conversation") openConversation(li.getAttribute("data-id"));
    else if (action === "rename-conversation") startRename(li);
    else if (action === "delete-conversation") deleteConversation(li);
    else if (action === "cancel-rename") {
      const id = li.getAttribute("data-id");
      renderList();
      focusItem(id, "rename-conversation");
    }
  });
  dialog.addEventListener("close", () => {
    placeToast();
    listButton.focus({ preventScroll: true });
  });

  toast.addEventListener("click", (event) => {
    if (event.target.closest("[data-action=undo]")) undoDelete();
  });

  document.getElementById("new-conversation").addEventListener("click", (event) => {
    event.preventDefault();
    newConversation();
  });

  // Another tab renamed or deleted a conversation: keep the open list true.
  window.addEventListener("storage", (event) => {
    if (event.key === STORE_KEY && dialog.open) renderList();
  });
}
