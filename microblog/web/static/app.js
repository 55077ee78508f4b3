// Microblog's own script: no framework, no inline code (the CSP allows none).
"use strict";

const locale = document.documentElement.lang || "en";

// Times: the reader's own time zone in the tooltip, "3 minutes ago" in the text.
const relative = new Intl.RelativeTimeFormat(locale, { numeric: "auto" });
const absolute = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" });
const units = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400],
               ["hour", 3600], ["minute", 60], ["second", 1]];

function describe(date) {
  const seconds = (date.getTime() - Date.now()) / 1000;
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size || unit === "second") {
      return relative.format(Math.round(seconds / size), unit);
    }
  }
  return "";
}

function renderTimes(root) {
  for (const element of root.querySelectorAll("time[datetime]")) {
    const date = new Date(element.getAttribute("datetime"));
    if (Number.isNaN(date.getTime())) continue;
    element.title = absolute.format(date);
    element.textContent = describe(date);
  }
}

// The unread-messages badge in the navigation, kept current without reloading the page.
function pollUnread() {
  const badge = document.getElementById("unread-badge");
  if (!badge) return;
  const seconds = Number(badge.dataset.interval || 10);
  const update = async () => {
    try {
      const response = await fetch(badge.dataset.poll, { headers: { Accept: "application/json" } });
      if (response.ok) {
        const { count } = await response.json();
        badge.textContent = count > 0 ? String(count) : "";
        badge.classList.toggle("d-none", count === 0);
      }
    } catch (error) { /* offline for a moment: try again next time */ }
  };
  setInterval(update, seconds * 1000);
}

// A profile card when the pointer rests on a username. It stays while the pointer is on the
// name or on the card itself (so the card's links can be clicked) and goes shortly after the
// pointer leaves both, or on Escape. A card that arrives after the pointer moved on is dropped.
function profileCards() {
  const SHOW_DELAY = 400;
  const HIDE_DELAY = 300;
  let card = null;
  let current = null;  // the popup URL being fetched or shown
  let showTimer = null;
  let hideTimer = null;
  let generation = 0;

  const keep = () => { clearTimeout(hideTimer); hideTimer = null; };
  const hide = () => {
    clearTimeout(showTimer);
    keep();
    generation += 1;
    current = null;
    if (card) { card.remove(); card = null; }
  };
  const show = (link) => {
    hide();
    const url = link.dataset.popup;
    const mine = generation;
    current = url;
    showTimer = setTimeout(async () => {
      let html;
      try {
        const response = await fetch(url);
        if (!response.ok) return;
        html = await response.text();
      } catch (error) { return; }
      if (mine !== generation) return;
      card = document.createElement("div");
      card.className = "user-popup card card-body shadow";
      card.dataset.for = url;
      card.innerHTML = html;  // server-rendered and escaped
      const box = link.getBoundingClientRect();
      card.style.top = `${window.scrollY + box.bottom + 4}px`;
      document.body.appendChild(card);
      // Under the name, but never past the right edge of the window.
      const room = document.documentElement.clientWidth - card.offsetWidth - 8;
      card.style.left = `${window.scrollX + Math.max(0, Math.min(box.left, room))}px`;
    }, SHOW_DELAY);
  };
  const inCard = (node) => Boolean(card && node && card.contains(node));

  document.addEventListener("mouseover", (event) => {
    if (inCard(event.target)) { keep(); return; }
    const link = event.target.closest("a[data-popup]");
    if (!link) return;
    keep();
    if (current !== link.dataset.popup) show(link);
  });
  document.addEventListener("mouseout", (event) => {
    const from = inCard(event.target) ? card : event.target.closest("a[data-popup]");
    if (!from) return;
    const to = event.relatedTarget;
    if (to && (from.contains(to) || inCard(to))) return;
    if (!card) { hide(); return; }  // nothing shown yet: just cancel
    keep();
    hideTimer = setTimeout(hide, HIDE_DELAY);
  });
  document.addEventListener("keydown", (event) => { if (event.key === "Escape") hide(); });
}

// "Translate" on posts in another language than the reader's.
function translations() {
  document.addEventListener("click", async (event) => {
    const link = event.target.closest("a[data-translate]");
    if (!link) return;
    event.preventDefault();
    let text;
    try {
      const response = await fetch(link.dataset.translate, { headers: { Accept: "application/json" } });
      const answer = await response.json();
      text = response.ok ? answer.text : (answer.message || answer.error);
    } catch (error) { return; }  // offline, or not JSON (signed out): leave the link to retry
    const result = document.createElement("p");
    result.className = "translation small fst-italic mb-1";
    result.textContent = text;
    link.replaceWith(result);
  });
}

// The progress of an export, and its download once done.
function exportProgress() {
  const box = document.getElementById("export");
  if (!box) return;
  const bar = document.getElementById("export-bar");
  const show = (progress) => {
    bar.style.width = `${progress}%`;
    bar.textContent = `${progress}%`;
    bar.parentElement.setAttribute("aria-valuenow", String(progress));
  };
  show(Number(bar.dataset.progress || 0));
  const timer = setInterval(async () => {
    let task;
    try {
      const response = await fetch(box.dataset.status, { headers: { Accept: "application/json" } });
      if (response.status >= 400 && response.status < 500) {
        clearInterval(timer);  // gone or signed out: asking again will not help
        return;
      }
      if (!response.ok) return;
      task = await response.json();
    } catch (error) { return; }  // offline for a moment: ask again next time
    show(task.progress);
    if (task.complete) {
      clearInterval(timer);
      if (task.error) {
        const error = document.getElementById("export-error");
        error.textContent = task.error;
        error.classList.remove("d-none");
      } else {
        document.getElementById("export-download").classList.remove("d-none");
      }
    }
  }, 1000);
}

renderTimes(document);
// Often enough that "now" does not linger for a minute.
setInterval(() => renderTimes(document), 15000);
pollUnread();
profileCards();
translations();
exportProgress();
