// Conversations kept in this browser: localStorage holds them all (each assistant turn with the
// API's answer, its suggestions and feedback, and the server's rendering of it), sessionStorage
// which one this tab shows and the card to come back to.
//
// Every change re-reads the store first, so two tabs editing different conversations don't
// overwrite each other.

import { pageStrings } from "./page.js";

export const STORE_KEY = "jaxabot.conversations.v1";
const RETURN_KEY = "jaxabot.return-to";
// Which conversation this tab shows (per tab, so two tabs can hold two conversations).
const TAB_KEY = "jaxabot.current";
const MAX_CONVERSATIONS = 50;
export const TITLE_CHARS = 60;

export function readStore() {
  try {
    const data = JSON.parse(localStorage.getItem(STORE_KEY));
    if (data && Array.isArray(data.items)) return data;
  } catch (e) { /* unreadable: start again */ }
  return { current: null, items: [] };
}

function writeStore(data) {
  data.items.sort((a, b) => b.updated - a.updated);
  data.items = data.items.slice(0, MAX_CONVERSATIONS);
  let renderingsDropped = false;
  for (;;) {
    try {
      localStorage.setItem(STORE_KEY, JSON.stringify(data));
      return true;
    } catch (e) {
      // Full: first the saved renderings of other conversations (the server renders them again),
      // then the oldest conversation other than the current one.
      if (!renderingsDropped) {
        renderingsDropped = true;
        for (const conv of data.items) {
          if (conv.id !== data.current) for (const turn of conv.turns) delete turn.view;
        }
        continue;
      }
      let victim = -1;
      for (let i = data.items.length - 1; i >= 0; i--) {
        if (data.items[i].id !== data.current) { victim = i; break; }
      }
      if (victim < 0) return false;
      data.items.splice(victim, 1);
    }
  }
}

export function updateStore(change) {
  const data = readStore();
  change(data);
  writeStore(data);
  return data;
}

export function findConversation(id) {
  return readStore().items.find((c) => c.id === id) || null;
}

export function saveConversation(conv) {
  conv.updated = Date.now();
  updateStore((data) => {
    data.items = data.items.filter((c) => c.id !== conv.id);
    data.items.unshift(conv);
    data.current = conv.id;
  });
  setTabCurrent(conv.id);
}

// Renderings fetched for a conversation that was only shown: kept without making it the newest.
export function keepRenderings(conv) {
  updateStore((data) => {
    const stored = data.items.find((c) => c.id === conv.id);
    if (!stored) return;
    conv.turns.forEach((turn, i) => {
      const same = stored.turns[i];
      if (turn.view && same && same.role === "assistant" && same.answer.answer === turn.answer.answer) {
        same.view = turn.view;
      }
    });
  });
}

export function setTabCurrent(id) {
  try { sessionStorage.setItem(TAB_KEY, id || ""); } catch (e) { /* the store's choice is used */ }
}

export function tabCurrent() {
  try { return sessionStorage.getItem(TAB_KEY); } catch (e) { return null; }
}

export function setReturnTo(cardId) {
  try { sessionStorage.setItem(RETURN_KEY, cardId); } catch (e) { /* optional */ }
}

export function takeReturnTo() {
  try {
    const id = sessionStorage.getItem(RETURN_KEY);
    sessionStorage.removeItem(RETURN_KEY);
    return id;
  } catch (e) {
    return null;
  }
}

export function newId() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  return String(Date.now()) + "-" + String(Math.random()).slice(2);
}

export function titleOf(conv) {
  return conv.title || pageStrings.untitled;
}
