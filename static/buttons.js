// The product cards' buttons through the JSON API, in place: Buy one unit,
// Restock, and the flash crowd, whose verdict shows under the cards and is
// kept side by side with the runs before it. Enter in a field still sends
// the plain form.

import { call } from "./api.js";
import { settings } from "./switch.js";
import { failure, restockedSentence, summary } from "./words.js";

// `show(product)` puts a product's numbers on its card; `remember(run)`
// keeps a crowd's run side by side.
export function startButtons(form, cards, { show, remember }) {
  const result = document.getElementById("crowd-result");

  function say(card, tone, text) {
    const outcome = card.querySelector("[data-outcome]");
    outcome.className = `outcome ${tone}`;
    outcome.textContent = text;
  }

  function verdict(tone, headline, detail, oversold) {
    const line = document.createElement("p");
    line.className = `verdict ${tone}`;
    line.textContent = headline;
    if (oversold !== null) line.dataset.oversold = String(oversold);
    const more = document.createElement("p");
    more.className = "verdict-detail";
    more.textContent = detail;
    result.replaceChildren(line, more);
  }

  function restockedDuring(report) {
    const sentence = restockedSentence(report);
    if (sentence === null) return;
    const line = document.createElement("p");
    line.className = "verdict-detail";
    line.dataset.restockedDuring = "";
    line.textContent = sentence;
    result.append(line);
  }

  // The one-per-buyer lesson's fields, read as they are now.
  function limits() {
    const field = (name) => form.elements.namedItem(name);
    return {
      onePerBuyer: Boolean(field("one_per_buyer")?.checked),
      clicks: Number(field("clicks_per_buyer")?.value || 1),
      check: field("duplicate_check")?.value || "key",
    };
  }

  async function buy(id, card, s) {
    const query = new URLSearchParams({ user: "browser" });
    if (s.lock) query.set("lock", s.lock);
    query.set("duplicate_check", limits().check);
    for (const [name, value] of Object.entries(s.knobs)) {
      if (value !== "") query.set(name, value);
    }
    const answer = await call("POST", `/api/products/${id}/purchase?${query}`);
    if (answer.ok) {
      const order = answer.data;
      const short = order.order_id.replaceAll("-", "").slice(0, 8);
      say(card, "good", `Order ${short} placed · ${order.remaining_stock} left`);
    } else {
      say(card, "bad", failure(answer));
    }
  }

  async function restock(id, card, s) {
    const body = { stock: s.stock };
    if (limits().onePerBuyer) body.per_buyer = 1;
    const answer = await call("POST", `/api/products/${id}/reset`, body);
    if (answer.ok) {
      show(answer.data);
      say(card, "info", `Restocked to ${answer.data.stock} · orders cleared`);
    } else {
      say(card, "bad", failure(answer));
    }
  }

  async function flashCrowd(id, card, s) {
    const body = { buyers: s.buyers };
    if (s.lock) body.lock = s.lock;
    for (const [name, value] of Object.entries(s.knobs)) {
      if (value !== "") body[name] = Number(value);
    }
    if (s.restockFirst) body.restock = s.stock;
    const { onePerBuyer, clicks, check } = limits();
    if (s.restockFirst && onePerBuyer) body.per_buyer = 1;
    if (clicks > 1) body.clicks_per_buyer = clicks;
    body.duplicate_check = check;
    const name = card.querySelector(".product-name").textContent;
    verdict("running", `${s.buyers} buyers rush “${name}” · lock ${s.lock}…`, "", null);
    say(card, "info", "Flash crowd running…");
    const answer = await call("POST", `/api/products/${id}/flash-crowd`, body);
    if (!answer.ok) {
      verdict("bad", failure(answer), "", null);
      say(card, "bad", failure(answer));
      return;
    }
    const report = answer.data;
    show(report.product);
    const run = summary(report, name);
    verdict(run.tone, run.headline, run.detail, report.oversold);
    restockedDuring(report);
    say(card, run.tone, `Last crowd: ${run.headline}`);
    remember(run);
  }

  const actions = { buy, restock, crowd: flashCrowd };
  let running = 0;

  form.addEventListener("submit", async (event) => {
    const button = event.submitter;
    const action = button && actions[button.dataset.action];
    if (!action) return; // Enter in a field: let the plain form do its job.
    event.preventDefault();
    const id = button.dataset.product;
    const card = cards.get(id);
    const isCrowd = button.dataset.action === "crowd";
    const crowdButtons = form.querySelectorAll('[data-action="crowd"]');
    button.disabled = true;
    if (isCrowd) crowdButtons.forEach((b) => (b.disabled = true));
    running += 1;
    form.setAttribute("aria-busy", "true");
    try {
      await action(id, card, settings(form));
    } catch (error) {
      say(card, "bad", `Could not reach the service (${error.message})`);
      if (isCrowd) verdict("bad", "The flash crowd could not reach the service", "", null);
    } finally {
      button.disabled = false;
      if (isCrowd) crowdButtons.forEach((b) => (b.disabled = false));
      running -= 1;
      if (running === 0) form.removeAttribute("aria-busy");
    }
  });
}
