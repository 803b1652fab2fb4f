// The few lines HTML cannot do: select tiles in bulk, copy a PIN or one-liner, say how fresh a
// live page is, count down.
document.addEventListener("click", (e) => {
  const sel = e.target.closest("[data-select]");
  if (sel) {
    for (const box of document.querySelectorAll("input[name=pc_ids]")) {
      // Online as the tile shows it now: the stream keeps the tile's state, not the box's.
      box.checked = sel.dataset.select === "online" && box.closest(".seat").querySelector(".tile").dataset.state !== "off";
    }
    return;
  }
  const copy = e.target.closest("[data-copy]");
  if (copy && navigator.clipboard) {
    navigator.clipboard.writeText(copy.dataset.copy).then(() => {
      copy.dataset.copied = "true";
    });
  }
});

// Live pages: how fresh the figures are. The stream sends the server's time at least every 10 s
// (handlers/live/live.go keepAlive), so a page that has heard nothing for staleAfter, or whose
// stream failed, says so and marks the document (html[data-live=lost] greys the tiles): a stale
// wall must never look live.
const staleAfter = 25000;
const live = { open: false, failed: false, last: Date.now() };
document.addEventListener("htmx:sseOpen", () => { live.open = true; live.failed = false; live.last = Date.now(); tick(); });
document.addEventListener("htmx:sseMessage", () => { live.last = Date.now(); });
document.addEventListener("htmx:sseError", () => { live.open = false; live.failed = true; tick(); });

function tick() {
  const now = Date.now();
  const statuses = document.querySelectorAll("[data-live-status]");
  if (statuses.length > 0) {
    const age = now - live.last;
    const state = live.failed || age >= staleAfter ? "lost" : live.open ? "ok" : "connecting";
    document.documentElement.dataset.live = state;
    for (const el of statuses) {
      el.textContent = el.dataset[state].replace("{n}", Math.floor(age / 1000));
    }
  }
  for (const el of document.querySelectorAll("[data-clock]")) {
    el.textContent = new Date(now).toLocaleTimeString(document.documentElement.lang, { hour: "2-digit", minute: "2-digit" });
  }
}
setInterval(tick, 1000);

// A command form opened from the room's action bar appears above it: bring it into view.
document.addEventListener("htmx:afterSwap", (e) => {
  if (e.detail.target.id === "command-panel") {
    e.detail.target.scrollIntoView({ block: "nearest" });
  }
});

// Room actions count down (views/room_actions.templ): each <time data-left> from the seconds
// the server said were left when it rendered it, so a browser's wrong clock does not matter.
// A countdown starts when htmx adds it (a live update, an answer) or the page loads it.
function tickCountdowns() {
  const now = Date.now();
  for (const t of document.querySelectorAll("time[data-left]")) {
    if (!t.dataset.until) {
      t.dataset.until = now + Number(t.dataset.left) * 1000;
    }
    t.textContent = Math.max(0, Math.ceil((Number(t.dataset.until) - now) / 1000));
  }
}
tickCountdowns();
document.addEventListener("htmx:load", tickCountdowns);
setInterval(tickCountdowns, 250);

// Shift-click on a box of a data-range list sets every box between it and the last one clicked.
let lastRangeBox = null;
document.addEventListener("click", (e) => {
  const box = e.target.closest("input[type=checkbox][data-range]");
  if (!box) return;
  const boxes = [...document.querySelectorAll(`input[data-range="${box.dataset.range}"]`)];
  const from = boxes.indexOf(lastRangeBox);
  if (e.shiftKey && from >= 0) {
    const to = boxes.indexOf(box);
    for (const b of boxes.slice(Math.min(from, to), Math.max(from, to) + 1)) b.checked = box.checked;
  }
  lastRangeBox = box;
});

// "/" focuses the PC search on /pcs, or opens /pcs?focus=1 (autofocus) from any other signed-in page.
document.addEventListener("keydown", (e) => {
  if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.target.closest("input, textarea, select, [contenteditable]")) return;
  const search = document.getElementById("pcs-search");
  if (!search && !document.getElementById("nav")) return; // not a signed-in page
  e.preventDefault();
  if (search) search.focus();
  else location.href = "/pcs?focus=1";
});

// A destructive command's confirmation quotes what it will run, kill or delete: the form names
// the field (views/commands_form.go confirmField), which the server-rendered question cannot know.
document.addEventListener("htmx:confirm", (e) => {
  const form = e.detail.elt.closest("form[data-confirm-with]");
  const field = form && form.querySelector(`[name="${form.dataset.confirmWith}"]`);
  if (!e.detail.question || !field || !field.value) {
    return;
  }
  e.preventDefault();
  const quoted = field.value.length > 200 ? field.value.slice(0, 200) + "…" : field.value;
  if (window.confirm(e.detail.question + "\n\n" + quoted)) {
    e.detail.issueRequest(true);
  }
});
