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
