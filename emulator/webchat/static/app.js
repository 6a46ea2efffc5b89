// The web chat page: a Telegram-like client over the emulator's JSON endpoints, refreshed live
// by Server-Sent Events. Plain DOM, no framework, no build step.
"use strict";

const $ = (selector) => document.querySelector(selector);
const view = { person: null, chat: null, thread: null, replyTo: null, world: null, nodes: new Map() };

async function api(path, options = {}) {
  const response = await fetch(path, options);
  if (!response.ok) throw new Error((await response.text()) || response.statusText);
  return response.json();
}

function postJson(path, body) {
  return api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
}

// ---- Live updates ---------------------------------------------------------------------

let refreshing = null;
let refreshAgain = false;

function refresh() {
  if (refreshing) { refreshAgain = true; return refreshing; }
  refreshing = (async () => {
    do {
      refreshAgain = false;
      try {
        await loadWorld();
        await loadMessages();
        await loadOperator();
      } catch (error) {
        showToast(String(error.message || error));
      }
    } while (refreshAgain);
    refreshing = null;
  })();
  return refreshing;
}

function connectEvents() {
  const events = new EventSource("/api/events");
  events.onmessage = () => refresh();
  events.onerror = () => document.body.classList.add("offline");
  events.onopen = () => document.body.classList.remove("offline");
}

// ---- People and chats -----------------------------------------------------------------

async function loadWorld() {
  const asked = view.person;
  const query = asked === null ? "" : `?person=${asked}`;
  const world = await api(`/api/world${query}`);
  if (asked !== view.person) { refreshAgain = true; return; }  // switched meanwhile: stale
  view.world = world;
  view.person = world.person.id;
  renderPeople(world);
  if (view.chat === null || !world.chats.some((chat) => chat.id === view.chat)) {
    view.chat = world.chats[0].id;
    view.thread = null;
  }
  renderChatList(world);
  renderHeader();
  renderCommands();
}

function renderPeople(world) {
  const select = $("#person");
  if (select.options.length !== world.people.length) {
    select.replaceChildren(...world.people.map((person) => {
      const option = document.createElement("option");
      option.value = person.id;
      option.textContent = `${person.name} — ${person.role}`;
      return option;
    }));
  }
  select.value = String(world.person.id);
  $("#language").value = world.person.language_code || "ar";
  document.body.dataset.person = world.person.id;
}

function currentChat() {
  return view.world.chats.find((chat) => chat.id === view.chat);
}

function renderChatList(world) {
  const items = world.chats.map((chat) => {
    const item = document.createElement("li");
    item.className = "chat-item" + (chat.id === view.chat ? " active" : "");
    item.dataset.chatId = chat.id;
    item.dataset.chatType = chat.type;
    item.tabIndex = 0;
    const title = document.createElement("span");
    title.className = "chat-title";
    title.dir = "auto";
    title.textContent = (chat.type === "channel" ? "📢 " : chat.type === "private" ? "" : "👥 ") + chat.title;
    const last = document.createElement("span");
    last.className = "chat-last";
    last.dir = "auto";
    last.textContent = chat.last;
    const text = document.createElement("div");
    text.className = "chat-text";
    text.append(title, last);
    item.append(avatar(chat.title), text);
    item.addEventListener("click", () => openChat(chat.id));
    item.addEventListener("keydown", (event) => { if (event.key === "Enter") openChat(chat.id); });
    return item;
  });
  $("#chat-list").replaceChildren(...items);
}

function avatar(name) {
  const element = document.createElement("div");
  element.className = "avatar";
  element.textContent = [...(name || "?")][0];
  let hash = 0;
  for (const char of name || "") hash = (hash * 31 + char.codePointAt(0)) % 360;
  element.style.background = `hsl(${hash} 55% 55%)`;
  return element;
}

function renderHeader() {
  const chat = currentChat();
  $("#chat-title").textContent = chat.title;
  $("#chat-avatar").replaceWith(Object.assign(avatar(chat.title), { id: "chat-avatar" }));
  const subtitle = { private: "bot", group: "group", supergroup: chat.is_forum ? "forum group" : "group", channel: "channel" }[chat.type];
  $("#chat-subtitle").textContent = chat.type === "private" ? `@${view.world.bot.username} · bot` : `${subtitle} · you are ${chat.status}`;
  const topics = $("#topics");
  topics.hidden = !chat.is_forum;
  if (chat.is_forum) {
    const all = [{ id: null, name: "General" }, ...chat.topics];
    topics.replaceChildren(...all.map((topic) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "topic" + (topic.id === view.thread ? " active" : "");
      button.dataset.topicId = topic.id ?? "general";
      button.textContent = `# ${topic.name}`;
      button.dir = "auto";
      button.addEventListener("click", () => { view.thread = topic.id; clearMessages(); refresh(); });
      return button;
    }));
  }
  $("#composer").hidden = !chat.can_write;
  $("#readonly-note").hidden = chat.can_write;
  document.body.dataset.chat = chat.id;
}

function openChat(chatId) {
  if (chatId !== view.chat) {
    view.chat = chatId;
    view.thread = null;
    setReply(null);
    clearMessages();
  }
  document.getElementById("app").classList.add("chat-open");
  return refresh();
}

function clearMessages() {
  view.nodes.clear();
  $("#messages").replaceChildren();
}

// ---- Messages -------------------------------------------------------------------------

async function loadMessages() {
  const chatId = view.chat;
  const person = view.person;
  if (!view.world || view.world.person.id !== person) return;
  const data = await api(`/api/chats/${chatId}/messages?person=${person}`);
  if (chatId !== view.chat || person !== view.person) { refreshAgain = true; return; }
  const chat = currentChat();
  const inView = (item) => !chat.is_forum || (item.thread_id ?? null) === view.thread;
  const messages = data.messages.filter(inView);
  const refusals = data.refusals.filter(inView);
  const box = $("#messages");
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  const wanted = [];
  for (const message of messages) {
    wanted.push(messageNode(message, chat));
    for (const refusal of refusals.filter((r) => r.after === message.id)) wanted.push(refusalNode(refusal));
  }
  for (const refusal of refusals.filter((r) => !messages.some((m) => m.id === r.after))) wanted.push(refusalNode(refusal));
  // Replace only what changed, so an edited or deleted message changes in place.
  let previous = null;
  for (const node of wanted) {
    const expected = previous ? previous.nextSibling : box.firstChild;
    if (expected !== node) box.insertBefore(node, expected);
    previous = node;
  }
  while (previous && previous.nextSibling) previous.nextSibling.remove();
  if (!previous) box.replaceChildren();
  if (atBottom) box.scrollTop = box.scrollHeight;
}

function messageNode(message, chat) {
  const signature = JSON.stringify(message);
  const known = view.nodes.get(message.id);
  if (known && known.signature === signature) return known.node;
  const node = buildMessage(message, chat);
  if (known) known.node.replaceWith(node);
  view.nodes.set(message.id, { signature, node });
  return node;
}

function buildMessage(message, chat) {
  const row = document.createElement("div");
  row.className = "message " + (message.outgoing ? "outgoing" : "incoming");
  row.dataset.id = message.id;
  row.dataset.testid = "message";
  if (message.from_bot) row.classList.add("from-bot");
  const bubble = document.createElement("div");
  bubble.className = "bubble";
  if (!message.outgoing && chat.type !== "private" && chat.type !== "channel" && message.from) {
    const name = document.createElement("div");
    name.className = "sender";
    name.dir = "auto";
    name.textContent = message.from.name;
    bubble.append(name);
  }
  if (message.forwarded_from) {
    const forwarded = document.createElement("div");
    forwarded.className = "forwarded";
    forwarded.dir = "auto";
    forwarded.textContent = `Forwarded from ${message.forwarded_from}`;
    bubble.append(forwarded);
  }
  if (message.reply_to) {
    const quote = document.createElement("div");
    quote.className = "reply-quote";
    quote.dir = "auto";
    const quoted = message.reply_to.deleted ? "Deleted message" : message.reply_to.text.slice(0, 60);
    quote.textContent = `${message.reply_to.name}: ${quoted}`;
    bubble.append(quote);
  }
  if (message.photo) bubble.append(photoNode(message.photo));
  const body = message.text ?? message.caption;
  if (body) {
    const text = document.createElement("div");
    text.className = "text";
    text.dir = "auto";
    text.append(renderEntities(body, message.text !== null ? message.entities : message.caption_entities, linkHandlers));
    bubble.append(text);
  }
  bubble.append(metaNode(message));
  row.append(bubble);
  if (message.buttons.length) row.append(keyboardNode(message));
  row.append(actionsNode(message, chat));
  return row;
}

function photoNode(photo) {
  const frame = document.createElement("div");
  frame.className = "photo-frame";
  frame.style.aspectRatio = `${photo.width} / ${photo.height}`;
  const image = document.createElement("img");
  image.className = "photo";
  image.alt = "photo";
  image.dataset.fileId = photo.file_id;
  image.src = `/api/files/${encodeURIComponent(photo.file_id)}`;
  image.addEventListener("error", () => { frame.classList.add("no-data"); image.remove(); frame.textContent = "🖼"; });
  frame.append(image);
  return frame;
}

function metaNode(message) {
  const meta = document.createElement("span");
  meta.className = "meta";
  const time = new Date(message.date * 1000);
  const clock = time.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  meta.textContent = (message.edited ? "edited " : "") + clock;
  if (message.edited) meta.classList.add("edited");
  return meta;
}

function keyboardNode(message) {
  const keyboard = document.createElement("div");
  keyboard.className = "keyboard";
  for (const row of message.buttons) {
    const line = document.createElement("div");
    line.className = "keyboard-row";
    for (const button of row) {
      const element = document.createElement("button");
      element.type = "button";
      element.className = `key key-${button.kind}`;
      element.dir = "auto";
      element.textContent = button.text + (button.kind === "url" ? " ↗" : "");
      element.addEventListener("click", () => pressKey(message, button, element));
      line.append(element);
    }
    keyboard.append(line);
  }
  return keyboard;
}

function actionsNode(message, chat) {
  const actions = document.createElement("div");
  actions.className = "message-actions";
  if (chat.type !== "channel" && chat.can_write) {
    const reply = document.createElement("button");
    reply.type = "button";
    reply.className = "reply-action";
    reply.title = "Reply";
    reply.textContent = "↩";
    reply.addEventListener("click", () => setReply(message));
    actions.append(reply);
  }
  if (chat.type !== "private") {
    const forward = document.createElement("button");
    forward.type = "button";
    forward.className = "forward-action";
    forward.title = "Forward to the bot";
    forward.textContent = "↪ bot";
    forward.addEventListener("click", () => forwardToBot(message));
    actions.append(forward);
  }
  return actions;
}

function refusalNode(refusal) {
  const node = document.createElement("div");
  node.className = "message refused";
  node.dataset.testid = "refused";
  const bubble = document.createElement("div");
  bubble.className = "bubble";
  const title = document.createElement("div");
  title.className = "refusal-title";
  title.textContent = `⛔ ${refusal.method} refused by Telegram: ${refusal.description}`;
  bubble.append(title);
  if (refusal.text) {
    const raw = document.createElement("pre");
    raw.className = "refusal-text";
    raw.dir = "auto";
    raw.textContent = refusal.text;
    bubble.append(raw);
  }
  node.append(bubble);
  return node;
}

// ---- Acting as the person -------------------------------------------------------------

const linkHandlers = { openLink, sendCommand: (command) => sendText(command) };

function deepLinkPayload(url) {
  let parsed;
  try { parsed = new URL(url); } catch { return null; }
  const host = parsed.hostname.toLowerCase();
  const bot = (view.world.bot.username || "").toLowerCase();
  if (!["t.me", "telegram.me"].includes(host)) return null;
  if (parsed.pathname.replace(/^\//, "").toLowerCase() !== bot) return null;
  return parsed.searchParams.get("start") ?? "";
}

async function openLink(url) {
  const payload = deepLinkPayload(url);
  if (payload === null) {
    if (/^https?:/i.test(url)) window.open(url, "_blank", "noopener");
    else showToast(`Not opened: ${url.slice(0, 80)}`);
    return;
  }
  // A link to the bot itself opens the private chat and sends /start with the payload.
  await openChat(view.person);
  await sendText(payload ? `/start ${payload}` : "/start");
}

async function sendText(text) {
  const chat = currentChat();
  await postJson(`/api/chats/${chat.id}/messages`, {
    person: view.person, text, thread_id: view.thread, reply_to: view.replyTo,
  });
  setReply(null);
  await refresh();
}

async function pressKey(message, button, element) {
  if (button.kind === "url") { await openLink(button.value); return; }
  if (button.kind !== "callback") return;
  element.classList.add("pressed");
  try {
    const answer = await postJson(`/api/chats/${view.chat}/press`, {
      person: view.person, message_id: message.id, data: button.value,
    });
    if (answer.answered && answer.text) (answer.show_alert ? showAlert : showToast)(answer.text);
    if (answer.answered && answer.url) await openLink(answer.url);
  } catch (error) {
    showToast(String(error.message || error));
  } finally {
    element.classList.remove("pressed");
    await refresh();
  }
}

async function forwardToBot(message) {
  await postJson(`/api/chats/${view.chat}/forward`, { person: view.person, message_id: message.id });
  await openChat(view.person);
}

async function sendPhoto(form) {
  form.append("person", view.person);
  if (view.thread !== null) form.append("thread_id", view.thread);
  const input = $("#input");
  const caption = input.value.trim();
  if (caption) form.append("caption", caption);
  // Taken now, not after the answer: a second photo sent meanwhile must not carry it too.
  input.value = "";
  $("#attach-menu").hidden = true;
  try {
    await api(`/api/chats/${view.chat}/photos`, { method: "POST", body: form });
  } catch (error) {
    if (!input.value) input.value = caption; // not sent: nothing typed is lost
    throw error;
  }
  await refresh();
}

function setReply(message) {
  view.replyTo = message ? message.id : null;
  $("#reply-bar").hidden = !message;
  if (message) $("#reply-text").textContent = `↩ ${(message.text ?? message.caption ?? "🖼").slice(0, 80)}`;
}

// ---- Command menu, attachments, toasts ------------------------------------------------

function renderCommands(filter = null) {
  const menu = $("#command-menu");
  const commands = view.world.commands.filter(([name]) => filter === null || name.startsWith(filter));
  menu.replaceChildren(...commands.map(([name, description]) => {
    const item = document.createElement("button");
    item.type = "button";
    item.className = "command-item";
    item.dataset.command = name;
    const label = document.createElement("b");
    label.textContent = `/${name}`;
    const text = document.createElement("span");
    text.dir = "auto";
    text.textContent = description;
    item.append(label, text);
    item.addEventListener("click", () => { menu.hidden = true; $("#input").value = ""; sendText(`/${name}`); });
    return item;
  }));
}

function toggleCommandMenu() {
  renderCommands();
  $("#command-menu").hidden = !$("#command-menu").hidden;
  $("#attach-menu").hidden = true;
}

async function toggleAttachMenu() {
  const menu = $("#attach-menu");
  menu.hidden = !menu.hidden;
  $("#command-menu").hidden = true;
  if (!menu.hidden && !$("#samples").children.length) {
    const { samples } = await api("/api/samples");
    $("#samples").replaceChildren(...samples.map((name) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "sample";
      button.dataset.sample = name;
      button.title = name;
      const image = document.createElement("img");
      image.src = `/api/samples/${encodeURIComponent(name)}`;
      image.alt = name;
      button.append(image);
      button.addEventListener("click", () => { const form = new FormData(); form.append("sample", name); sendPhoto(form); });
      return button;
    }));
  }
}

let toastTimer = null;
function showToast(text) {
  const toast = $("#toast");
  toast.textContent = text;
  toast.dir = "auto";
  toast.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { toast.hidden = true; }, 3000);
}

function showAlert(text) {
  $("#alert-text").textContent = text;
  $("#alert").hidden = false;
  $("#alert-ok").focus();
}

// ---- Operator panel -------------------------------------------------------------------

async function loadOperator() {
  const data = await api("/api/operator");
  const status = $("#operator-status");
  status.replaceChildren(...Object.entries(data.status).flatMap(([label, value]) => {
    const term = document.createElement("dt");
    term.textContent = label;
    const detail = document.createElement("dd");
    detail.textContent = value;
    detail.dataset.status = label;
    return [term, detail];
  }));
  const actions = $("#operator-actions");
  if (actions.children.length !== data.actions.length) {
    actions.replaceChildren(...data.actions.map((action) => {
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.action = action.name;
      button.textContent = action.label + (action.needs_chat ? " (open chat)" : "");
      button.addEventListener("click", () => runOperatorAction(action));
      return button;
    }));
  }
  $("#refused-list").replaceChildren(...data.refusals.map((refusal) => {
    const item = document.createElement("li");
    item.textContent = `${refusal.method} → chat ${refusal.chat_id}: ${refusal.description}`;
    return item;
  }));
}

async function runOperatorAction(action) {
  try {
    const { result } = await postJson(`/api/operator/${action.name}`, { chat_id: view.chat });
    $("#operator-result").textContent = result;
  } catch (error) {
    $("#operator-result").textContent = String(error.message || error);
  }
  await refresh();
}

// ---- Wiring ---------------------------------------------------------------------------

function wire() {
  $("#person").addEventListener("change", (event) => {
    view.person = Number(event.target.value);
    view.chat = null;
    setReply(null);
    clearMessages();
    refresh();
  });
  $("#language").addEventListener("change", async (event) => {
    await postJson(`/api/people/${view.person}/language`, { language_code: event.target.value });
    await refresh();
  });
  $("#composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("#input").value.trim();
    if (!text) return;
    $("#input").value = "";
    $("#command-menu").hidden = true;
    sendText(text).catch((error) => showToast(String(error.message || error)));
  });
  $("#input").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); $("#composer").requestSubmit(); }
  });
  $("#input").addEventListener("input", (event) => {
    const value = event.target.value;
    const typing = /^\/\w*$/.test(value);
    if (typing) renderCommands(value.slice(1));
    $("#command-menu").hidden = !typing;
  });
  $("#menu-button").addEventListener("click", toggleCommandMenu);
  $("#attach-button").addEventListener("click", toggleAttachMenu);
  $("#upload").addEventListener("change", (event) => {
    const file = event.target.files[0];
    if (!file) return;
    const form = new FormData();
    form.append("file", file, file.name);
    sendPhoto(form).catch((error) => showToast(String(error.message || error)));
    event.target.value = "";
  });
  $("#reply-cancel").addEventListener("click", () => setReply(null));
  $("#alert-ok").addEventListener("click", () => { $("#alert").hidden = true; });
  $("#back").addEventListener("click", () => document.getElementById("app").classList.remove("chat-open"));
}

wire();
refresh().then(() => { document.body.dataset.ready = "1"; connectEvents(); });
