// The few lines HTML cannot do: select tiles in bulk, copy a PIN or one-liner.
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
