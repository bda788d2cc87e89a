// copbot sandbox page: draws what the server renders from the Slack twin and sends what a
// person does back to it. No build step, no framework.
"use strict";

const state = {
  me: localStorage.getItem("copbot.me") || "",
  at: localStorage.getItem("copbot.at") || "",
  thread: null,
  version: null,
  modalKey: null,
  dm: null,
  busy: 0,
  people: [],
};

const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

function say(text) {
  const status = $("#status");
  status.textContent = "";
  if (!text) return;
  // A fresh node each time so screen readers announce repeats.
  window.setTimeout(() => { status.textContent = text; }, 30);
  window.clearTimeout(say.timer);
  say.timer = window.setTimeout(() => { status.textContent = ""; }, 8000);
}

async function post(path, body) {
  state.busy += 1;
  document.body.setAttribute("aria-busy", "true");
  try {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ as: state.me, ...body }),
    });
    let answer = {};
    try { answer = await response.json(); } catch (error) { answer = {}; }
    if (!response.ok) {
      say(answer.error || `The sandbox answered ${response.status}.`);
      return null;
    }
    if (answer.notice) say(answer.notice);
    return answer;
  } catch (error) {
    say("The sandbox is not answering. Is `copbot sandbox` still running?");
    return null;
  } finally {
    state.busy -= 1;
    if (!state.busy) document.body.removeAttribute("aria-busy");
    await refresh();
  }
}

// ---------------------------------------------------------------- drawing

function conversationButton(item) {
  const li = document.createElement("li");
  const button = document.createElement("button");
  button.type = "button";
  button.className = "conv";
  button.dataset.at = item.id;
  const name = document.createElement("span");
  name.textContent = item.name;
  button.append(name);
  if (item.unread) {
    button.classList.add("has-unread");
    const badge = document.createElement("span");
    badge.className = "unread";
    badge.textContent = String(item.unread);
    badge.setAttribute("aria-label", `${item.unread} new`);
    button.append(badge);
  }
  li.append(button);
  return li;
}

function keepFocus(container, draw) {
  // Redraws replace HTML; put the focus back on the same control when it is still there.
  const active = document.activeElement;
  let key = null;
  if (active && container.contains(active)) {
    const surface = active.closest("[data-ts],[data-view]");
    key = {
      ts: surface && (surface.dataset.ts || surface.dataset.view),
      block: active.dataset.block || (active.closest("[data-block]") || {}).dataset?.block,
      action: active.dataset.action || (active.closest("[data-action]") || {}).dataset?.action,
      option: active.dataset.option,
      text: active.textContent,
      cls: active.className,
    };
  }
  draw();
  if (!key) return;
  const candidates = $$("button, select, input, textarea, a", container);
  const match = candidates.find((el) => {
    const surface = el.closest("[data-ts],[data-view]");
    const ts = surface && (surface.dataset.ts || surface.dataset.view);
    return ts === key.ts && el.className === key.cls && el.textContent === key.text;
  });
  if (!match) return;
  const list = match.closest(".bk-menu-list");
  if (list) openMenu(list.closest(".bk-menu").querySelector(".bk-menu-toggle"), null);
  match.focus();
}

function drawMain(html, container, place) {
  // place: "top" (a new Home tab), "bottom" (a new conversation), or null (keep reading).
  if (container.dataset.html === html && !place) return;
  const nearBottom = container.scrollHeight - container.scrollTop - container.clientHeight < 80;
  keepFocus(container, () => {
    container.innerHTML = html;
    container.dataset.html = html;
  });
  if (place === "top") container.scrollTop = 0;
  else if (place === "bottom" || nearBottom) container.scrollTop = container.scrollHeight;
}

function drawModal(modal) {
  const root = $("#modal-root");
  if (!modal) {
    if (state.modalKey) {
      root.innerHTML = "";
      state.modalKey = null;
      const composer = $("#compose");
      if (composer && !composer.closest("[hidden]")) composer.focus();
    }
    return;
  }
  if (modal.key === state.modalKey) return;
  const previousView = state.modalKey && state.modalKey.split(":")[0];
  state.modalKey = modal.key;
  root.innerHTML = `<div class="modal-backdrop">${modal.html}</div>`;
  const dialog = $(".modal", root);
  const firstError = $(".has-error .bk-field, .has-error .bk-native, .has-error input", dialog);
  if (firstError) { firstError.focus(); return; }
  if (previousView !== modal.key.split(":")[0]) {
    const first = $(".modal-body input, .modal-body select, .modal-body textarea, .modal-body button", dialog)
      || $(".modal-close", dialog);
    if (first) first.focus();
  }
}

function draw(screen) {
  const moved = `${screen.me.id} ${screen.at}` !== state.drawnAt;
  state.drawnAt = `${screen.me.id} ${screen.at}`;
  state.version = screen.version;
  window.__copbotVersion = screen.version;
  state.at = screen.at;
  state.dm = screen.dm;
  localStorage.setItem("copbot.at", state.at);
  const me = screen.me;
  $("#me-role").textContent = `${me.title}, ${me.organisation}. Role: ${me.role}.`;
  $("#clock").textContent = screen.clock;
  $("#where").textContent = screen.title;
  document.title = `${screen.title} · copbot sandbox`;
  const channels = $("#channels");
  const groups = $("#groups");
  channels.replaceChildren(...screen.conversations.filter((c) => c.kind === "channel").map(conversationButton));
  const groupItems = screen.conversations.filter((c) => c.kind === "group").map(conversationButton);
  if (!groupItems.length) {
    const none = document.createElement("li");
    none.className = "team-note";
    none.style.padding = "2px 16px";
    none.textContent = "None yet";
    groupItems.push(none);
  }
  groups.replaceChildren(...groupItems);
  const dmLink = $("#dm-link");
  dmLink.dataset.at = screen.dm;
  dmLink.textContent = "copbot · Messages";
  if (screen.dm_unread) {
    const badge = document.createElement("span");
    badge.className = "unread";
    badge.textContent = String(screen.dm_unread);
    badge.setAttribute("aria-label", `${screen.dm_unread} new`);
    dmLink.classList.add("has-unread");
    dmLink.append(badge);
  } else {
    dmLink.classList.remove("has-unread");
  }
  $$(".conv").forEach((button) => {
    if (button.dataset.at === screen.at) button.setAttribute("aria-current", "page");
    else button.removeAttribute("aria-current");
  });
  drawMain(screen.main, $("#messages"), moved ? (screen.at === "home" ? "top" : "bottom") : null);
  $("#composer").hidden = !screen.composer;
  const thread = $("#thread");
  if (screen.thread !== null && screen.thread !== undefined) {
    thread.hidden = false;
    drawMain(screen.thread, $("#thread-body"));
  } else {
    thread.hidden = true;
    state.thread = null;
  }
  drawModal(screen.modal);
}

async function refresh() {
  if (!state.me) return;
  const query = new URLSearchParams({ as: state.me, at: state.at || "" });
  if (state.thread) query.set("thread", state.thread);
  try {
    const response = await fetch(`/api/screen?${query}`);
    if (!response.ok) return;
    draw(await response.json());
  } catch (error) {
    /* the next poll tries again */
  }
}

async function poll() {
  try {
    if (!state.busy) {
      const response = await fetch("/api/version");
      const { version } = await response.json();
      if (version !== state.version) {
        await refresh();
        if (state.at !== "home") {
          fetch("/api/seen", {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ as: state.me, at: state.at }),
          }).catch(() => {});
        }
      }
    }
  } catch (error) {
    /* copbot restarting: keep trying */
  }
  window.setTimeout(poll, 1000);
}

// ---------------------------------------------------------------- forms

function valueOf(el) {
  const type = el.dataset.type;
  if (el.tagName === "FIELDSET") {
    const checked = $$("input:checked", el).map((input) => input.value);
    return type === "checkboxes" ? checked : (checked[0] ?? null);
  }
  if (el.tagName === "SELECT") {
    if (el.multiple) return Array.from(el.selectedOptions).map((o) => o.value);
    return el.value || null;
  }
  return el.value === "" ? null : el.value;
}

function modalValues() {
  const values = {};
  $$("#modal-root .bk-input [data-block]").forEach((el) => {
    values[el.dataset.block] = valueOf(el);
  });
  return values;
}

function whereOf(el) {
  const surface = el.closest("[data-surface]");
  if (!surface) return null;
  const where = { surface: surface.dataset.surface };
  if (surface.dataset.channel) where.channel = surface.dataset.channel;
  if (surface.dataset.ts) where.ts = surface.dataset.ts;
  if (surface.dataset.view) where.view = surface.dataset.view;
  if (where.surface === "modal") where.values = modalValues();
  return where;
}

function confirmFirst(holder) {
  const raw = holder && holder.dataset.confirm;
  if (!raw) return Promise.resolve(true);
  const details = JSON.parse(raw);
  const dialog = $("#confirm");
  $("#confirm-title").textContent = details.title;
  $("#confirm-text").textContent = details.text;
  $("#confirm-ok").textContent = details.confirm;
  $("#confirm-deny").textContent = details.deny;
  $("#confirm-ok").className = `bk-btn ${details.style === "danger" ? "danger" : "primary"}`;
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true });
    dialog.showModal();
    $("#confirm-deny").focus();
  });
}

async function act(el, value) {
  const holder = el.closest("[data-action]");
  if (!holder) return;
  if (!(await confirmFirst(holder))) return;
  const where = whereOf(holder);
  if (!where) return;
  const url = holder.dataset.url;
  if (url && /^https?:\/\//i.test(url)) window.open(url, "_blank", "noopener");
  await post("/api/act", {
    where,
    control: { block: holder.dataset.block, action: holder.dataset.action, value },
  });
}

// Menus follow the WAI-ARIA menu button pattern: Enter, Space or Down Arrow on the button
// opens the menu on its first item (Up Arrow: its last), arrows move round it, Home and
// End jump, a letter moves to the next item starting with it, Escape closes it and puts
// the focus back on the button, Tab closes it and moves on.
function menuItems(list) {
  return $$("[role^='menuitem']", list);
}

function openMenu(toggle, focus) {
  closeMenus(toggle);
  const list = document.getElementById(toggle.getAttribute("aria-controls"));
  if (!list) return;
  toggle.setAttribute("aria-expanded", "true");
  list.hidden = false;
  const items = menuItems(list);
  if (focus === "first" && items.length) items[0].focus();
  if (focus === "last" && items.length) items[items.length - 1].focus();
}

function closeMenus(except) {
  $$(".bk-menu-toggle[aria-expanded='true']").forEach((toggle) => {
    if (toggle === except) return;
    toggle.setAttribute("aria-expanded", "false");
    const list = document.getElementById(toggle.getAttribute("aria-controls"));
    if (list) list.hidden = true;
  });
}

function menuKeys(event) {
  const target = event.target;
  if (!target.closest) return false;
  if (target.classList.contains("bk-menu-toggle") && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
    event.preventDefault();
    openMenu(target, event.key === "ArrowDown" ? "first" : "last");
    return true;
  }
  const list = target.closest("[role='menu']");
  if (!list) return false;
  const toggle = document.getElementById(list.getAttribute("aria-labelledby"));
  const items = menuItems(list);
  const at = items.indexOf(target);
  let next = null;
  if (event.key === "ArrowDown") next = (at + 1) % items.length;
  else if (event.key === "ArrowUp") next = (at + items.length - 1) % items.length;
  else if (event.key === "Home") next = 0;
  else if (event.key === "End") next = items.length - 1;
  else if (event.key === "Escape") {
    event.preventDefault();
    closeMenus();
    toggle.focus();
    return true;
  } else if (event.key === "Tab") {
    closeMenus();
    toggle.focus();  // the Tab then moves on from the menu's button
    return true;
  } else if (event.key.length === 1 && /\S/.test(event.key)) {
    const letter = event.key.toLowerCase();
    const order = items.slice(at + 1).concat(items.slice(0, at + 1));
    const found = order.find((item) => item.textContent.trim().toLowerCase().replace(/^\W+/u, "").startsWith(letter));
    if (found) next = items.indexOf(found);
  }
  if (next === null) return false;
  event.preventDefault();
  items[next].focus();
  return true;
}

// ---------------------------------------------------------------- events

document.addEventListener("click", async (event) => {
  const target = event.target.closest("button, a");
  if (!target) { closeMenus(); return; }
  if (target.classList.contains("bk-menu-toggle")) {
    if (target.getAttribute("aria-expanded") === "true") closeMenus();
    else openMenu(target, "first");
    return;
  }
  const fromMenu = target.closest(".bk-menu");
  closeMenus();
  if (fromMenu && target.closest("[role='menu']")) {
    // The chosen item acts; the focus goes back to the menu's button, as after Escape.
    const toggle = $(".bk-menu-toggle", fromMenu);
    if (toggle) toggle.focus();
  }
  if (target.dataset.react) {
    const message = target.closest("[data-ts]");
    await post("/api/react", {
      channel: message.dataset.channel, ts: message.dataset.ts, name: target.dataset.react,
    });
    return;
  }
  if (target.dataset.at) {
    const at = target.dataset.at;
    state.at = at;
    state.thread = null;
    localStorage.setItem("copbot.at", at);
    await post("/api/open", { at });
    $("#messages").focus();
    return;
  }
  if (target.dataset.jump) {
    // One jump at a time: a second press while the clock moves would move it again.
    if (state.jumping) { say("The clock is still moving…"); return; }
    state.jumping = true;
    $$("[data-jump]").forEach((button) => button.setAttribute("aria-disabled", "true"));
    say("Moving the clock… copbot runs what was due.");
    let answer = null;
    try {
      answer = await post("/api/jump", { to: target.dataset.jump });
    } finally {
      state.jumping = false;
      $$("[data-jump]").forEach((button) => button.removeAttribute("aria-disabled"));
    }
    if (answer) {
      const ran = answer.ran || [];
      say(ran.length ? `The clock moved. What ran:\n${ran.slice(0, 8).join("\n")}` : "The clock moved. Nothing was due.");
    }
    return;
  }
  if (target.id === "reset") {
    const dialogHolder = { dataset: { confirm: JSON.stringify({
      title: "Reset the demo?",
      text: "Every idea, pulse, exchange and message in this sandbox is deleted and the demo community starts again.",
      confirm: "Reset demo", deny: "Keep it", style: "danger" }) } };
    if (!(await confirmFirst(dialogHolder))) return;
    say("Starting the demo again…");
    const answer = await post("/api/reset", {});
    if (answer) say("The demo starts again.");
    return;
  }
  if (target.id === "shortcut-button") {
    await post("/api/shortcut", { callback_id: "share_idea" });
    return;
  }
  if (target.classList.contains("thread-open")) {
    state.thread = target.dataset.thread;
    await refresh();
    $("#reply-text").focus();
    return;
  }
  if (target.id === "thread-close") {
    state.thread = null;
    await refresh();
    $("#compose").focus();
    return;
  }
  if (target.dataset.shortcut) {
    const message = target.closest("[data-ts]");
    await post("/api/shortcut", {
      callback_id: target.dataset.shortcut,
      channel: message.dataset.channel,
      ts: message.dataset.ts,
    });
    return;
  }
  if (target.classList.contains("modal-close")) {
    const modal = target.closest(".modal");
    await post("/api/close", { view: modal.dataset.view });
    return;
  }
  if (target.classList.contains("bk-option") && target.dataset.option !== undefined) {
    await act(target, target.dataset.option);
    return;
  }
  if (target.classList.contains("bk-btn") && target.dataset.action !== undefined) {
    await act(target, null);
  }
});

document.addEventListener("change", async (event) => {
  const el = event.target;
  if (el.id === "actas") {
    state.me = el.value;
    localStorage.setItem("copbot.me", state.me);
    state.thread = null;
    state.modalKey = null;
    const person = state.people.find((p) => p.id === state.me);
    say(person ? `You are now ${person.name}, a ${person.role}.` : "");
    await post("/api/open", { at: state.at });
    return;
  }
  const holder = el.closest("[data-acts]");
  if (holder) await act(holder, valueOf(holder));
});

document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (form.method === "dialog") return;
  event.preventDefault();
  if (form.id === "composer" || form.id === "reply") {
    const box = form.id === "composer" ? $("#compose") : $("#reply-text");
    const text = box.value;
    if (!text.trim()) { say("Type a message first."); return; }
    box.value = "";
    const answer = await post("/api/send", {
      at: state.at, text, thread: form.id === "reply" ? state.thread : null,
    });
    if (!answer) box.value = text;
    if (!$("#modal-root .modal")) box.focus();
    return;
  }
  if (form.classList.contains("modal-form")) {
    const modal = form.closest(".modal");
    const answer = await post("/api/submit", { view: modal.dataset.view, values: modalValues() });
    if (answer && answer.errors && Object.keys(answer.errors).length) {
      say("The form has problems: they are shown under their fields.");
    }
  }
});

document.addEventListener("keydown", (event) => {
  if (menuKeys(event)) return;
  if (event.key === "Escape") {
    if ($(".bk-menu-toggle[aria-expanded='true']")) {
      const open = $(".bk-menu-toggle[aria-expanded='true']");
      closeMenus();
      open.focus();
      return;
    }
    const modal = $("#modal-root .modal");
    if (modal && !$("#confirm").open) post("/api/close", { view: modal.dataset.view });
  }
  if ((event.key === "Enter") && !event.shiftKey && event.target.matches("#compose, #reply-text")) {
    event.preventDefault();
    event.target.form.requestSubmit();
  }
  if (event.key === "Tab") {
    // Keep the focus inside an open modal, as a dialog should.
    const modal = $("#modal-root .modal");
    if (!modal || $("#confirm").open) return;
    const focusable = $$("button, select, input, textarea, a[href]", modal).filter((el) => !el.disabled && el.offsetParent !== null);
    if (!focusable.length) return;
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (event.shiftKey && document.activeElement === first) { event.preventDefault(); last.focus(); }
    else if (!event.shiftKey && document.activeElement === last) { event.preventDefault(); first.focus(); }
    else if (!modal.contains(document.activeElement)) { event.preventDefault(); first.focus(); }
  }
});

async function start() {
  const response = await fetch("/api/people");
  const { team, people } = await response.json();
  state.people = people;
  $("#team").textContent = team;
  const select = $("#actas");
  select.replaceChildren(...people.map((person) => {
    const option = document.createElement("option");
    option.value = person.id;
    option.textContent = `${person.name} (${person.role})`;
    return option;
  }));
  if (!people.some((p) => p.id === state.me)) state.me = people[0].id;
  select.value = state.me;
  await refresh();
  poll();
}

start();
