// The few lines HTML cannot do: select tiles in bulk, copy a PIN or one-liner, count down.
document.addEventListener("click", (e) => {
  const sel = e.target.closest("[data-select]");
  if (sel) {
    for (const box of document.querySelectorAll("input[name=pc_ids]")) {
      box.checked = sel.dataset.select === "online" && box.dataset.online === "true";
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
