// The sandbox's page: what one person sees of the local Discord, and what
// they can do there. Plain JavaScript, no build step. Every id is a string
// (Discord's snowflakes exceed what a JavaScript number holds exactly).
"use strict";

const POLL_MS = 700;
const OPTION = { SUB: 1, GROUP: 2, STRING: 3, INTEGER: 4, BOOLEAN: 5, USER: 6, CHANNEL: 7, ROLE: 8, MENTIONABLE: 9, NUMBER: 10 };
const HINTS = {
  alex: "in the server, pairs with sam",
  sam: "in the server, pairs with alex",
  casey: "another member of the server",
  robin: "pairs with jo in direct messages",
  jo: "pairs with robin in direct messages",
};

const state = {
  who: null,
  people: [],
  botId: null,
  channels: [],
  dm: null,
  channelId: null,
  commands: [],
  rendered: new Map(),
  polling: false,
  gen: 0,
  modalFor: null,
};

const $ = (id) => document.getElementById(id);

async function api(path, body) {
  const init = body === undefined ? {} : { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
  const res = await fetch(path, init);
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.error || `the page's server answered ${res.status}`);
  return data;
}

function say(text, kind = "error") {
  const n = $("notice");
  n.textContent = text;
  n.className = `notice ${kind}`;
  n.hidden = !text;
}

function as(path) {
  return `/api/as/${encodeURIComponent(state.who)}${path}`;
}

// --- commands ------------------------------------------------------------

/** Every runnable path ("couple start") with its options, from the registered commands. */
function flatten(commands) {
  const out = [];
  const walk = (path, description, options) => {
    const subs = (options || []).filter((o) => o.type === OPTION.SUB || o.type === OPTION.GROUP);
    if (subs.length === 0) {
      out.push({ path, description, options: options || [] });
      return;
    }
    for (const s of subs) walk(`${path} ${s.name}`, s.description, s.options);
  };
  for (const c of commands) walk(c.name, c.description, c.options);
  out.sort((a, b) => a.path.localeCompare(b.path));
  return out;
}

function renderCommands() {
  const select = $("command");
  const chosen = select.value;
  select.replaceChildren(...state.commands.map((c) => new Option(`/${c.path}`, c.path)));
  if (state.commands.some((c) => c.path === chosen)) select.value = chosen;
  renderOptions();
}

function currentCommand() {
  return state.commands.find((c) => c.path === $("command").value);
}

function renderOptions() {
  const command = currentCommand();
  $("command-help").textContent = command ? command.description : "mend's commands appear once it has registered them.";
  const box = $("options");
  box.replaceChildren();
  for (const o of command ? command.options : []) box.append(optionField(o));
}

function optionField(o) {
  const wrap = document.createElement("div");
  wrap.className = "option";
  const id = `opt-${o.name}`;
  const label = document.createElement("label");
  label.htmlFor = id;
  label.textContent = o.required ? o.name : `${o.name} (optional)`;
  label.title = o.description;
  let input;
  const choices = o.choices || [];
  if (choices.length > 0 || o.type === OPTION.BOOLEAN || o.type === OPTION.USER || o.type === OPTION.CHANNEL) {
    input = document.createElement("select");
    input.append(new Option(o.required ? "choose…" : "—", ""));
    if (choices.length > 0) choices.forEach((c) => input.append(new Option(c.name, String(c.value))));
    else if (o.type === OPTION.BOOLEAN) input.append(new Option("yes", "true"), new Option("no", "false"));
    else if (o.type === OPTION.USER) state.people.forEach((p) => input.append(new Option(p.name, p.id)));
    else state.channels.filter((c) => !c.thread).forEach((c) => input.append(new Option(`#${c.name}`, c.id)));
  } else {
    input = document.createElement("input");
    input.type = o.type === OPTION.INTEGER || o.type === OPTION.NUMBER ? "number" : "text";
    if (o.autocomplete) {
      const list = document.createElement("datalist");
      list.id = `${id}-choices`;
      input.setAttribute("list", list.id);
      let timer = null;
      input.addEventListener("input", () => {
        clearTimeout(timer);
        timer = setTimeout(() => suggest(o, input, list), 250);
      });
      wrap.append(list);
    }
  }
  input.id = id;
  input.name = o.name;
  input.dataset.type = String(o.type);
  input.setAttribute("aria-label", o.name);
  if (o.required) input.required = true;
  const help = document.createElement("small");
  help.textContent = o.description;
  wrap.prepend(label, input, help);
  return wrap;
}

function optionValues(except) {
  const values = {};
  for (const input of $("options").querySelectorAll("input, select")) {
    if (input.value === "" || input.name === except) continue;
    const type = Number(input.dataset.type);
    if (type === OPTION.INTEGER) values[input.name] = parseInt(input.value, 10);
    else if (type === OPTION.NUMBER) values[input.name] = parseFloat(input.value);
    else if (type === OPTION.BOOLEAN) values[input.name] = input.value === "true";
    else values[input.name] = input.value;
  }
  return values;
}

async function suggest(o, input, list) {
  const options = optionValues(o.name);
  options[o.name] = input.value;
  try {
    const { choices } = await api(as("/autocomplete"), { channel_id: state.channelId, command: currentCommand().path, options, focused: o.name });
    list.replaceChildren(...choices.map((c) => new Option(c.name, String(c.value))));
  } catch (e) {
    say(`Suggestions are not available: ${e.message}`);
  }
}

async function send(event) {
  event.preventDefault();
  const command = currentCommand();
  if (!command || !state.channelId) return;
  say("");
  try {
    const { interaction_id } = await api(as("/slash"), { channel_id: state.channelId, command: command.path, options: optionValues() });
    for (const input of $("options").querySelectorAll("input")) input.value = "";
    await followInteraction(interaction_id);
  } catch (e) {
    say(e.message);
  }
}

// --- interactions and modals ----------------------------------------------

/** Waits for mend's answer to an interaction; opens the modal if it sent one. */
async function followInteraction(id) {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const ix = await api(as(`/interactions/${id}`));
    if (ix.modal) return openModal(id, ix.modal);
    if (ix.callback !== null) return poll();
    await new Promise((r) => setTimeout(r, 150));
  }
  say("mend has not answered that yet.", "info");
}

function openModal(id, modal) {
  state.modalFor = id;
  $("modal-title").textContent = modal.title;
  const box = $("modal-inputs");
  box.replaceChildren();
  for (const i of modal.inputs) {
    const label = document.createElement("label");
    label.htmlFor = `modal-${i.custom_id}`;
    label.textContent = i.label;
    const input = document.createElement(i.style === 2 ? "textarea" : "input");
    input.id = `modal-${i.custom_id}`;
    input.name = i.custom_id;
    input.setAttribute("aria-label", i.label);
    if (i.value) input.value = i.value;
    if (i.placeholder) input.placeholder = i.placeholder;
    if (i.max_length) input.maxLength = i.max_length;
    if (i.min_length) input.minLength = i.min_length;
    input.required = i.required;
    box.append(label, input);
  }
  $("modal").showModal();
}

async function submitModal(event) {
  event.preventDefault();
  const values = {};
  for (const input of $("modal-inputs").querySelectorAll("input, textarea")) values[input.name] = input.value;
  $("modal-submit").disabled = true;
  try {
    const { interaction_id } = await api(as("/modal"), { interaction_id: state.modalFor, values });
    $("modal").close();
    await followInteraction(interaction_id);
  } catch (e) {
    $("modal").close();
    say(e.message);
  } finally {
    $("modal-submit").disabled = false;
  }
}

async function click(messageId, customId) {
  say("");
  try {
    const { interaction_id } = await api(as("/click"), { message_id: messageId, custom_id: customId });
    await followInteraction(interaction_id);
  } catch (e) {
    say(e.message);
  }
}

async function dueNow(what) {
  try {
    await api(as("/due-now"), { what });
    say(what === "prompt" ? "The next prompt is on its way." : "The weekly reflection is on its way (check-ins first).", "info");
  } catch (e) {
    say(e.message);
  }
}

// --- rendering -------------------------------------------------------------

function escapeHtml(s) {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

/** Discord's everyday markdown, after escaping: enough to read mend's words. */
function markdown(text) {
  const names = new Map(state.people.map((p) => [p.id, p.name]));
  names.set(state.botId, "mend");
  return escapeHtml(text || "")
    .replace(/&lt;@!?(\d+)&gt;/g, (_, id) => `<span class="mention">@${escapeHtml(names.get(id) || "someone")}</span>`)
    .replace(/&lt;#(\d+)&gt;/g, (_, id) => {
      const c = state.channels.find((ch) => ch.id === id);
      return `<span class="mention">#${escapeHtml(c ? c.name : "a channel")}</span>`;
    })
    .replace(/\*\*(.+?)\*\*/gs, "<strong>$1</strong>")
    .replace(/__(.+?)__/gs, "<u>$1</u>")
    .replace(/(^|[^*])\*([^*\n]+)\*/g, "$1<em>$2</em>")
    .replace(/(^|\s)_([^_\n]+)_/g, "$1<em>$2</em>")
    .replace(/`([^`]+)`/g, "<code>$1</code>")
    .replace(/^&gt; (.*)$/gm, '<span class="quote">$1</span>')
    .replace(/\[([^\]]+)\]\((https?:[^)\s]+)\)/g, '<a href="$2" rel="noreferrer">$1</a>')
    .replace(/\n/g, "<br>");
}

function el(tag, cls, html) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (html !== undefined) e.innerHTML = html;
  return e;
}

function renderEmbed(e) {
  const box = el("div", "embed");
  if (typeof e.color === "number") box.style.borderLeftColor = `#${e.color.toString(16).padStart(6, "0")}`;
  if (e.author && e.author.name) box.append(el("div", "embed-author", markdown(e.author.name)));
  if (e.title) box.append(el("div", "embed-title", markdown(e.title)));
  if (e.description) box.append(el("div", "embed-description", markdown(e.description)));
  for (const f of e.fields || []) {
    const field = el("div", "embed-field");
    field.append(el("div", "embed-field-name", markdown(f.name)), el("div", "embed-field-value", markdown(f.value)));
    box.append(field);
  }
  if (e.footer && e.footer.text) box.append(el("div", "embed-footer", markdown(e.footer.text)));
  return box;
}

function renderMessage(m) {
  const li = el("li", "message");
  li.dataset.id = m.id;
  if (m.ephemeral) li.classList.add("ephemeral");
  const bot = m.author_id === state.botId;
  const head = el("div", "message-head");
  head.append(el("span", bot ? "author bot" : "author", escapeHtml(m.author || "someone")));
  if (bot) head.append(el("span", "badge", "APP"));
  if (m.edited) head.append(el("span", "edited", "(edited)"));
  li.append(head);
  if (m.ephemeral) li.append(el("div", "only-you", "Only you can see this"));
  if (m.loading) li.append(el("div", "thinking", "mend is thinking…"));
  if (m.content) li.append(el("div", "content", markdown(m.content)));
  for (const e of m.embeds || []) li.append(renderEmbed(e));
  for (const a of m.attachments || []) {
    const src = as(`/attachments/${m.id}/${a.id}`);
    if ((a.content_type || "").startsWith("image/") || /\.(png|jpe?g|gif)$/i.test(a.filename)) {
      const img = el("img", "attachment");
      img.src = src;
      img.alt = a.description || a.filename;
      li.append(img);
    } else {
      const link = el("a", "attachment-file", escapeHtml(a.filename));
      link.href = src;
      link.download = a.filename;
      li.append(link);
    }
  }
  for (const row of m.components || []) {
    const r = el("div", "component-row");
    for (const c of row.components || []) {
      if (c.type === 2 && c.style === 5) {
        const a = el("a", "button style-5", escapeHtml(c.label || "link"));
        a.href = c.url;
        a.rel = "noreferrer";
        r.append(a);
      } else if (c.type === 2) {
        const b = el("button", `button style-${c.style || 2}`, escapeHtml(c.label || "…"));
        b.type = "button";
        b.disabled = !!c.disabled;
        b.addEventListener("click", () => click(m.id, c.custom_id));
        r.append(b);
      } else if (c.type === 3) {
        const s = el("select", "menu");
        s.setAttribute("aria-label", c.placeholder || "Choose");
        s.append(new Option(c.placeholder || "Choose…", ""));
        for (const o of c.options || []) s.append(new Option(o.label, o.value));
        s.disabled = !!c.disabled;
        s.addEventListener("change", async () => {
          try {
            const { interaction_id } = await api(as("/click"), { message_id: m.id, custom_id: c.custom_id, values: [s.value] });
            await followInteraction(interaction_id);
          } catch (e) {
            say(e.message);
          }
        });
        r.append(s);
      }
    }
    li.append(r);
  }
  if (m.thread_id && state.channels.some((c) => c.id === m.thread_id)) {
    const t = el("button", "thread-link", "Open the thread");
    t.type = "button";
    t.addEventListener("click", () => openChannel(m.thread_id));
    li.append(t);
  }
  return li;
}

function renderMessages(list) {
  const ol = $("messages");
  const nearBottom = ol.scrollHeight - ol.scrollTop - ol.clientHeight < 80;
  const next = new Map();
  let before = null;
  for (let i = list.length - 1; i >= 0; i--) {
    const m = list[i];
    // What a message looks like also depends on whether its thread is open
    // to this person yet (they may be added to it a moment later).
    const key = JSON.stringify([m, !!m.thread_id && state.channels.some((c) => c.id === m.thread_id)]);
    const old = state.rendered.get(m.id);
    let li;
    if (old && old.key === key) li = old.li;
    else {
      li = renderMessage(m);
      if (old) old.li.replaceWith(li);
    }
    next.set(m.id, { key, li });
    if (li.nextSibling !== before || li.parentNode !== ol) ol.insertBefore(li, before);
    before = li;
  }
  for (const [id, old] of state.rendered) if (!next.has(id)) old.li.remove();
  state.rendered = next;
  if (list.length === 0 && !ol.querySelector(".empty")) ol.append(el("li", "empty", "Nothing here yet."));
  if (list.length > 0) ol.querySelectorAll(".empty").forEach((e) => e.remove());
  if (nearBottom) ol.scrollTop = ol.scrollHeight;
}

function channelLabel(c) {
  return c.thread ? c.name : `# ${c.name}`;
}

function renderSidebar() {
  const ul = $("channels");
  ul.replaceChildren();
  const top = state.channels.filter((c) => !c.thread);
  for (const c of top) {
    ul.append(channelItem(c, channelLabel(c)));
    for (const t of state.channels.filter((t) => t.thread && t.parent_id === c.id)) ul.append(channelItem(t, t.name, "thread"));
  }
  const dms = $("dms");
  dms.replaceChildren();
  if (state.dm) dms.append(channelItem({ id: state.dm, name: "mend" }, "@ mend"));
}

function channelItem(c, text, cls) {
  const li = el("li", cls);
  const b = el("button", "channel", escapeHtml(text));
  b.type = "button";
  if (c.private) b.append(el("span", "private", " (private)"));
  if (c.id === state.channelId) {
    b.classList.add("current");
    b.setAttribute("aria-current", "page");
  }
  b.addEventListener("click", () => openChannel(c.id));
  li.append(b);
  return li;
}

function renderHeader() {
  const c = state.channels.find((ch) => ch.id === state.channelId);
  if (state.channelId && state.channelId === state.dm) {
    $("channel-title").textContent = "@ mend";
    $("channel-note").textContent = `Direct messages between ${state.who} and mend.`;
  } else if (c) {
    $("channel-title").textContent = channelLabel(c);
    $("channel-note").textContent = c.thread ? "A thread." : c.private ? "A private channel: only the people in it and mend see it." : "Everyone in the server sees this channel.";
  }
}

// --- navigation and polling --------------------------------------------------

// Each person or channel chosen starts a new generation: an answer that comes
// back for an earlier one is dropped, never shown as what this person sees.
function openChannel(id) {
  state.gen += 1;
  state.channelId = id;
  state.rendered = new Map();
  const ol = $("messages");
  ol.replaceChildren();
  ol.dataset.who = "";
  ol.dataset.channel = "";
  say("");
  renderSidebar();
  renderHeader();
  poll();
}

async function choose(who) {
  state.gen += 1;
  const gen = state.gen;
  state.who = who;
  $("who-hint").textContent = HINTS[who] || "";
  say("");
  const seen = await api(as("/channels"));
  if (gen !== state.gen) return;
  state.channels = seen.channels;
  state.dm = seen.dm;
  const general = state.channels.find((c) => c.name === "general");
  openChannel(general ? general.id : state.dm);
}

async function poll() {
  if (state.polling || !state.who || !state.channelId) return;
  state.polling = true;
  const gen = state.gen;
  try {
    const seen = await api(as("/channels"));
    if (gen !== state.gen) return;
    const changed = JSON.stringify([seen.channels, seen.dm]) !== JSON.stringify([state.channels, state.dm]);
    state.channels = seen.channels;
    state.dm = seen.dm;
    if (changed) renderSidebar();
    const visible = state.channelId === state.dm || state.channels.some((c) => c.id === state.channelId);
    if (!visible) {
      const general = state.channels.find((c) => c.name === "general");
      state.polling = false;
      openChannel(general ? general.id : state.dm);
      say(`${state.who} cannot see that channel any more.`, "info");
      return;
    }
    renderHeader();
    const list = await api(as(`/channels/${state.channelId}/messages`));
    if (gen !== state.gen) return;
    renderMessages(list);
    // What the list shows, for a test (or a curious reader) to check.
    $("messages").dataset.who = state.who;
    $("messages").dataset.channel = state.channelId;
    if (state.commands.length === 0) {
      state.commands = flatten(await api("/api/commands"));
      if (state.commands.length > 0) renderCommands();
    }
  } catch (e) {
    if (gen === state.gen) say(e.message);
  } finally {
    state.polling = false;
  }
}

async function start() {
  const world = await api("/api/world");
  state.people = world.people;
  state.botId = world.bot_id;
  $("guild-name").textContent = world.guild;
  const who = $("who");
  who.replaceChildren(...world.people.map((p) => new Option(p.name, p.name)));
  who.addEventListener("change", () => choose(who.value));
  $("command").addEventListener("change", renderOptions);
  $("composer").addEventListener("submit", send);
  $("modal-form").addEventListener("submit", submitModal);
  $("modal-cancel").addEventListener("click", () => $("modal").close());
  $("due-prompt").addEventListener("click", () => dueNow("prompt"));
  $("due-reflection").addEventListener("click", () => dueNow("reflection"));
  state.commands = flatten(await api("/api/commands"));
  renderCommands();
  await choose(who.value);
  setInterval(poll, POLL_MS);
}

start().catch((e) => say(`The sandbox is not reachable: ${e.message}`));
