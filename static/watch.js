// "Watch N buyers": runs a small traced crowd (POST …/flash-crowd with
// "trace": true) and draws every buyer as a lane on a time axis (timeline.js):
// waiting for the lock, holding it, the stock it read and the stock it
// wrote, where its lock expired, and how it ended. The last two timelines
// stay side by side for the tab's session (sessionStorage), on one time scale.

import { call } from "./api.js";
import { lockLabel, settings } from "./switch.js";
import { timelineFigure } from "./timeline.js";
import { sharedEnd } from "./timeline-layout.js";
import { readsOf } from "./timeline-words.js";
import { failure, toneOf, verdictOf } from "./words.js";

const TIMELINES_KEY = "flashsale.timelines";

// A small stock, so that the race shows: a quarter of the buyers, at least one.
export function watchStock(buyers) {
  return Math.max(1, Math.floor(buyers / 4));
}

// Shows the timeline section (hidden without JavaScript) and the timelines
// kept so far; `show(product)` puts a product's numbers on its card.
export function startWatch(form, { show }) {
  const watch = {
    section: document.getElementById("timeline"),
    buyers: document.getElementById("watch-buyers"),
    product: document.getElementById("watch-product"),
    button: document.getElementById("watch"),
    count: document.getElementById("watch-count"),
    stock: document.getElementById("watch-stock"),
    status: document.getElementById("watch-status"),
    head: document.getElementById("timelines-head"),
    list: document.getElementById("timelines"),
    clear: document.getElementById("clear-timelines"),
  };
  if (!watch.section || !watch.button) return;

  function watchedBuyers() {
    const text = watch.buyers.value.trim();
    const n = Number(text);
    const ok = /^\d+$/.test(text) && n >= Number(watch.buyers.min) && n <= Number(watch.buyers.max);
    return ok ? n : null;
  }

  function updateWatchLabel() {
    const n = watchedBuyers();
    if (n === null) return;
    watch.count.textContent = String(n);
    watch.stock.textContent = String(watchStock(n));
  }

  function sayWatch(tone, text) {
    watch.status.className = `tl-status ${tone}`;
    watch.status.textContent = text;
  }

  async function watchBuyers() {
    const n = watchedBuyers();
    if (n === null) {
      sayWatch("bad", `Buyers to watch: a whole number from ${watch.buyers.min} to ${watch.buyers.max}`);
      return;
    }
    const s = settings(form);
    const body = { buyers: n, restock: watchStock(n), trace: true };
    if (s.lock) body.lock = s.lock;
    for (const [name, value] of Object.entries(s.knobs)) {
      if (value !== "") body[name] = Number(value);
    }
    const id = watch.product.value;
    if (!id) {
      sayWatch("bad", "There is no product to watch");
      return;
    }
    const name = watch.product.selectedOptions[0].textContent;
    sayWatch("running", `${n} buyers rush “${name}” · lock ${s.lock}…`);
    const answer = await call("POST", `/api/products/${id}/flash-crowd`, body);
    if (!answer.ok) {
      sayWatch("bad", failure(answer));
      return;
    }
    const report = answer.data;
    show(report.product);
    const entry = {
      id: report.crowd_id,
      lock: report.lock,
      label: lockLabel(form, report.lock),
      product: name,
      buyers: report.buyers,
      work_ms: report.work_ms,
      pause_ms: report.pause_ms,
      ttl_ms: report.ttl_ms,
      deadline_ms: report.deadline_ms,
      stock_before: report.stock_before,
      sold: report.sold,
      oversold: report.oversold,
      // What the verdict needs to name an undersell and why.
      sold_after_restock: report.sold_after_restock,
      duplicates: report.duplicates,
      busy: report.busy,
      lock_lost: report.lock_lost,
      unavailable: report.unavailable,
      failed: report.failed,
      elapsed_ms: report.elapsed_ms,
      lanes: report.timeline || [],
    };
    const entries = [...loadTimelines(), entry].slice(-2);
    try {
      sessionStorage.setItem(TIMELINES_KEY, JSON.stringify(entries));
    } catch (_) {
      // Storage refused (private mode): the timelines still show until a reload.
    }
    drawTimelines(entries);
    sayWatch(
      toneOf(entry),
      `Watched ${entry.buyers} buyers with lock ${entry.lock}: ${verdictOf(entry)}. ${readsOf(entry).sentence}`,
    );
  }

  function loadTimelines() {
    try {
      const entries = JSON.parse(sessionStorage.getItem(TIMELINES_KEY) || "[]");
      return Array.isArray(entries) ? entries.filter((e) => e && Array.isArray(e.lanes)).slice(-2) : [];
    } catch (_) {
      return [];
    }
  }

  function drawTimelines(entries) {
    const end = sharedEnd(entries);
    const figures = entries.map((entry, i) =>
      timelineFigure(entry, i, i === entries.length - 1 && entries.length > 1, end),
    );
    if (entries.length === 1) {
      const next = document.createElement("p");
      next.className = "tl-next";
      next.textContent =
        "Now pick another lock strategy and watch again: its timeline appears here, beside this one.";
      figures.push(next);
    }
    watch.list.replaceChildren(...figures);
    watch.head.hidden = entries.length === 0;
  }

  watch.section.hidden = false;
  watch.buyers.addEventListener("input", updateWatchLabel);
  watch.buyers.addEventListener("keydown", (event) => {
    if (event.key === "Enter") watch.button.click();
  });
  watch.button.addEventListener("click", async () => {
    watch.button.disabled = true;
    watch.section.setAttribute("aria-busy", "true");
    try {
      await watchBuyers();
    } catch (error) {
      sayWatch("bad", `Could not reach the service (${error.message})`);
    } finally {
      watch.button.disabled = false;
      watch.section.removeAttribute("aria-busy");
    }
  });
  watch.clear.addEventListener("click", () => {
    sessionStorage.removeItem(TIMELINES_KEY);
    drawTimelines([]);
    sayWatch("", "");
  });
  updateWatchLabel();
  drawTimelines(loadTimelines());
}
