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

// A profile card when the pointer rests on a username.
function profileCards() {
  let card = null;
  let timer = null;
  const hide = () => { clearTimeout(timer); if (card) { card.remove(); card = null; } };
  document.addEventListener("mouseover", (event) => {
    const link = event.target.closest("a[data-popup]");
    if (!link || (card && card.dataset.for === link.dataset.popup)) return;
    hide();
    timer = setTimeout(async () => {
      const response = await fetch(link.dataset.popup);
      if (!response.ok) return;
      card = document.createElement("div");
      card.className = "user-popup card card-body shadow";
      card.dataset.for = link.dataset.popup;
      card.innerHTML = await response.text();  // server-rendered and escaped
      const box = link.getBoundingClientRect();
      card.style.left = `${window.scrollX + box.left}px`;
      card.style.top = `${window.scrollY + box.bottom + 4}px`;
      document.body.appendChild(card);
    }, 400);
  });
  document.addEventListener("mouseout", (event) => {
    const link = event.target.closest("a[data-popup]");
    if (link && !link.contains(event.relatedTarget)) hide();
  });
}

// "Translate" on posts in another language than the reader's.
function translations() {
  document.addEventListener("click", async (event) => {
    const link = event.target.closest("a[data-translate]");
    if (!link) return;
    event.preventDefault();
    const response = await fetch(link.dataset.translate, { headers: { Accept: "application/json" } });
    const answer = await response.json();
    const result = document.createElement("p");
    result.className = "translation small fst-italic mb-1";
    result.textContent = response.ok ? answer.text : answer.error;
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
    const response = await fetch(box.dataset.status, { headers: { Accept: "application/json" } });
    if (!response.ok) return;
    const task = await response.json();
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
setInterval(() => renderTimes(document), 60000);
pollUnread();
profileCards();
translations();
exportProgress();
