// Telegram MessageEntity rendering: text plus UTF-16 offsets (JavaScript strings are UTF-16
// too, so offsets index them directly) into DOM nodes. Nested entities nest; overlapping
// ones that do not nest are dropped, as Telegram's HTML parser never produces them.
"use strict";

const ENTITY_TAGS = {
  bold: "b", italic: "i", underline: "u", strikethrough: "s", code: "code", pre: "pre",
  blockquote: "blockquote", expandable_blockquote: "blockquote",
};

// Telegram marks /commands and web addresses in any text, even without entities.
const AUTO_LINK = /(^|[\s(])(\/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,})?|https?:\/\/[^\s<>"]+[^\s<>".,;:!?)])/g;
const INERT = new Set(["text_link", "url", "code", "pre", "bot_command"]);

function renderEntities(text, entities, handlers) {
  const sorted = [...(entities || [])].sort((a, b) => a.offset - b.offset || b.length - a.length);
  return renderRange(text, 0, text.length, sorted, handlers, true);
}

function appendPlain(fragment, chunk, handlers, linkify) {
  if (!linkify) { fragment.append(chunk); return; }
  let cursor = 0;
  for (const match of chunk.matchAll(AUTO_LINK)) {
    const start = match.index + match[1].length;
    if (start > cursor) fragment.append(chunk.slice(cursor, start));
    const found = match[2];
    const type = found.startsWith("/") ? "bot_command" : "url";
    const element = entityElement({ type, offset: 0, length: found.length }, found, handlers);
    element.append(found);
    fragment.append(element);
    cursor = start + found.length;
  }
  if (cursor < chunk.length) fragment.append(chunk.slice(cursor));
}

function renderRange(text, start, end, entities, handlers, linkify) {
  const fragment = document.createDocumentFragment();
  let cursor = start;
  let index = 0;
  while (index < entities.length) {
    const entity = entities[index];
    const entityEnd = entity.offset + entity.length;
    if (entity.offset < cursor || entityEnd > end) { index += 1; continue; }
    if (entity.offset > cursor) appendPlain(fragment, text.slice(cursor, entity.offset), handlers, linkify);
    const inner = [];
    index += 1;
    while (index < entities.length && entities[index].offset < entityEnd) {
      if (entities[index].offset + entities[index].length <= entityEnd) inner.push(entities[index]);
      index += 1;
    }
    const element = entityElement(entity, text.slice(entity.offset, entityEnd), handlers);
    const innerLinkify = linkify && !INERT.has(entity.type);
    element.append(renderRange(text, entity.offset, entityEnd, inner, handlers, innerLinkify));
    fragment.append(element);
    cursor = entityEnd;
  }
  if (cursor < end) appendPlain(fragment, text.slice(cursor, end), handlers, linkify);
  return fragment;
}

function entityElement(entity, content, handlers) {
  const tag = ENTITY_TAGS[entity.type];
  if (tag) {
    const element = document.createElement(tag);
    if (entity.type === "expandable_blockquote") element.className = "expandable";
    if (entity.type === "pre" && entity.language) element.dataset.language = entity.language;
    return element;
  }
  if (entity.type === "text_link" || entity.type === "url") {
    const link = document.createElement("a");
    const url = entity.type === "url" ? content : entity.url;
    if (/^(https?|tg):/i.test(url)) link.href = url;  // never a javascript: or data: address
    link.rel = "noopener noreferrer";
    link.target = "_blank";
    if (entity.type === "url") link.className = "url";
    link.addEventListener("click", (event) => { event.preventDefault(); handlers.openLink(url); });
    return link;
  }
  if (entity.type === "spoiler") {
    const spoiler = document.createElement("span");
    spoiler.className = "spoiler";
    spoiler.title = "Spoiler: tap to reveal";
    spoiler.addEventListener("click", () => spoiler.classList.add("revealed"));
    return spoiler;
  }
  if (entity.type === "bot_command") {
    const command = document.createElement("a");
    command.href = "#";
    command.className = "command";
    command.addEventListener("click", (event) => { event.preventDefault(); handlers.sendCommand(content); });
    return command;
  }
  const span = document.createElement("span");
  span.className = `entity-${entity.type}`;
  return span;
}

window.renderEntities = renderEntities;
