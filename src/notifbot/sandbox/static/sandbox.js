// The sandbox page's script: forms become fetches, the SSE feed is applied (in animation frames, a few
// milliseconds of work each), confirm dialogs open as <dialog>. The page works without it, all but liveness.
// No framework, no inline code.
"use strict";

(function () {
  const KEEP = 300; // messages per channel list kept in the DOM
  const ANNOUNCE_MS = 2000; // the live region speaks at most this often
  // changes applied per frame until this much time went by: a storm never makes one long task (on a busy machine
  // a task's wall time is a multiple of its CPU time), the rest waits for the next frame
  const SLICE_MS = 8;
  const FLASH = [{ backgroundColor: "#fdf3d3" }, { backgroundColor: "transparent" }];
  const calm = window.matchMedia("(prefers-reduced-motion: reduce)");
  const body = document.body;
  const live = document.getElementById("sb-live");

  // -- forms -----------------------------------------------------------------------------------------------

  function notice(text, channel) {
    const section = channel ? document.querySelector(`.sb-channel[data-channel="${CSS.escape(channel)}"]`) : null;
    const box = section ? section.querySelector(".sb-notices") : document.getElementById("sb-notices");
    if (!box) return;
    const p = document.createElement("p");
    p.className = "sb-notice";
    p.textContent = text;
    box.appendChild(p);
  }

  async function post(action, data) {
    const response = await fetch(action, {
      method: "POST",
      // a file upload goes as the browser encodes it (multipart), any other form as the page's urlencoded one
      body: data.has("eml") ? data : new URLSearchParams(data),
      redirect: "manual",
      credentials: "same-origin",
    });
    if (response.type !== "opaqueredirect" && !response.ok) {
      throw new Error(`${action}: HTTP ${response.status} ${(await response.text()).trim()}`);
    }
  }

  async function submit(form, submitter) {
    const data = new FormData(form, submitter);
    const buttons = form.querySelectorAll("button");
    buttons.forEach((b) => { b.disabled = true; });
    form.setAttribute("aria-busy", "true");
    try {
      await post(form.getAttribute("action"), data);
      if (form.classList.contains("sb-command")) form.querySelector("input[name=text]").value = "";
      if (form.classList.contains("sb-dismiss")) form.closest("article")?.remove();
      if (form.classList.contains("sb-email")) form.reset();
    } catch (error) {
      notice(String(error.message || error), data.get("channel"));
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
      form.removeAttribute("aria-busy");
    }
  }

  document.addEventListener("submit", (event) => {
    const form = event.target;
    const action = form.getAttribute("action");
    if (action === "/as" || action === "/console") return; // a reload, or the console in a tab of its own
    event.preventDefault();
    const submitter = event.submitter;
    const dialog = form.querySelector("dialog.nb-confirm");
    if (dialog && !(submitter && submitter.name === "confirmed")) {
      dialog.showModal();
      return;
    }
    if (dialog && dialog.open) dialog.close();
    submit(form, submitter);
  });

  document.addEventListener("click", (event) => {
    const target = event.target.closest("[data-confirm=deny]");
    if (target) {
      target.closest("dialog")?.close();
      return;
    }
    // a URL button opens its link (the browser does) and is reported to the bot too, as Slack does
    const link = event.target.closest("a[data-action-id]");
    const article = link && link.closest("article[data-ts]");
    if (article) {
      const data = { channel: article.dataset.channel, ts: article.dataset.ts, action_id: link.dataset.actionId };
      if (link.dataset.value) data.value = link.dataset.value;
      post("/act", data).catch((error) => notice(String(error.message || error), data.channel));
    }
  });

  // -- the feed ----------------------------------------------------------------------------------------------

  let queue = [];
  let head = 0; // the next change of `queue` to apply
  let scheduled = false;
  const fresh = new Map(); // channel name → new messages not announced yet
  let lastSpoken = 0;
  let speakTimer = null;

  function speak() {
    speakTimer = null;
    if (!fresh.size) return;
    const now = Date.now();
    if (now - lastSpoken < ANNOUNCE_MS) {
      speakTimer = setTimeout(speak, ANNOUNCE_MS - (now - lastSpoken));
      return;
    }
    const parts = [];
    fresh.forEach((n, name) => parts.push(`${n} new message${n === 1 ? "" : "s"} in #${name}`));
    fresh.clear();
    live.textContent = parts.join(", ");
    lastSpoken = now;
  }

  function announce(section) {
    const name = section.dataset.name;
    fresh.set(name, (fresh.get(name) || 0) + 1);
    if (!speakTimer) speakTimer = setTimeout(speak, 0);
  }

  function fragment(html) {
    const template = document.createElement("template");
    template.innerHTML = html;
    return template.content.firstElementChild;
  }

  function list(section, source) {
    const box = section.querySelector(`.sb-list[data-source="${source}"]`);
    box.querySelector(".sb-empty")?.remove();
    return box;
  }

  function trim(box) {
    const articles = box.querySelectorAll(":scope > article");
    for (let i = 0; i < articles.length - KEEP; i++) articles[i].remove();
  }

  function reply(data, node) {
    const parent = document.getElementById(`m-${data.channel}-${data.thread_ts}`);
    const thread = parent && parent.querySelector(":scope > details.sb-thread");
    if (!thread) return;
    thread.hidden = false;
    thread.querySelector(".sb-replies").appendChild(node);
    const count = thread.querySelectorAll(".sb-replies > article").length;
    thread.querySelector("summary").textContent = `${count} ${count === 1 ? "reply" : "replies"}`;
  }

  function upsert(data, section, grown) {
    const node = fragment(data.html);
    const old = document.getElementById(node.id);
    if (old) { // edited in place: the same element gets the new content, and keeps its thread
      const thread = old.querySelector(":scope > details.sb-thread");
      const empty = node.querySelector(":scope > details.sb-thread");
      if (thread && empty) empty.replaceWith(thread);
      old.replaceChildren(...node.childNodes);
      if (!calm.matches) old.animate(FLASH, { duration: 1500, easing: "ease-out" }); // no forced layout
      return;
    }
    if (data.thread_ts) {
      reply(data, node);
      return;
    }
    const box = list(section, data.source);
    box.appendChild(node);
    grown.add(box);
    announce(section);
  }

  function apply(kind, data, grown) {
    if (kind === "reset") {
      location.reload();
      return false;
    }
    const section = data.channel
      ? document.querySelector(`.sb-channel[data-channel="${CSS.escape(data.channel)}"]`)
      : null;
    if (kind === "notice") {
      const box = section ? section.querySelector(".sb-notices") : document.getElementById("sb-notices");
      box.appendChild(fragment(data.html));
      return true;
    }
    if (!section) { // a channel the page does not show yet
      location.reload();
      return false;
    }
    if (kind === "upsert") upsert(data, section, grown);
    if (kind === "ephemeral" && data.user === body.dataset.user) {
      const box = list(section, "slack");
      box.appendChild(fragment(data.html));
      grown.add(box);
    }
    return true;
  }

  function schedule() {
    if (!scheduled) {
      scheduled = true;
      requestAnimationFrame(flush);
    }
  }

  function flush() {
    scheduled = false;
    const started = performance.now();
    const grown = new Set(); // lists that got messages: trimmed once per frame, not once per message
    while (head < queue.length) {
      const [kind, data] = queue[head++];
      if (!apply(kind, data, grown)) return;
      if (performance.now() - started > SLICE_MS) break;
    }
    grown.forEach(trim);
    if (head < queue.length) schedule();
    else { queue = []; head = 0; }
  }

  function enqueue(kind) {
    return (event) => {
      queue.push([kind, kind === "reset" ? {} : JSON.parse(event.data)]);
      schedule();
    };
  }

  if (window.EventSource && body.dataset.lastEvent) {
    const source = new EventSource(`/events?after=${encodeURIComponent(body.dataset.lastEvent)}`);
    for (const kind of ["upsert", "ephemeral", "notice", "reset"]) source.addEventListener(kind, enqueue(kind));
  }
})();
