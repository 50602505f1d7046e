// The live numbers: every product card's stock, orders, oversold and lost
// updates, and its meter, from GET /api/products every half second (every
// two seconds while the tab is hidden); the header's badge says whether the
// last poll got through ("live"), and whether the service's dependencies
// answer (GET /readyz: "degraded · Redis down"); the strategies that can run
// now come from GET /api/strategies, for the switch to grey out the others.

const POLL_MS = 500;
const HEALTH_MS = 1000;
const FIELDS = ["stock", "initial_stock", "orders", "oversold", "lost_updates"];

// The page's product cards, by product id (as text).
export function productCards(root) {
  const cards = new Map();
  for (const card of root.querySelectorAll("[data-product]")) {
    if (card.tagName === "ARTICLE") cards.set(card.dataset.product, card);
  }
  return cards;
}

// Shows a product (as the API returns it) on its card, if the page has one.
export function showProduct(cards, product) {
  const card = cards.get(String(product.id));
  if (!card) return;
  for (const field of FIELDS) {
    for (const cell of card.querySelectorAll(`[data-field="${field}"]`)) {
      const text = String(product[field]);
      if (cell.textContent !== text) cell.textContent = text;
    }
  }
  card.classList.toggle("is-oversold", product.oversold > 0);
  const meter = card.querySelector("[data-meter]");
  if (meter) {
    // Units sold against the stock there was: dark up to the stock, red beyond.
    const scale = Math.max(product.initial_stock, product.orders, 1);
    const within = Math.min(product.orders, product.initial_stock);
    meter.querySelector("[data-meter-sold]").style.width = `${(100 * within) / scale}%`;
    meter.querySelector("[data-meter-over]").style.width = `${(100 * product.oversold) / scale}%`;
    meter.title = `${product.orders} sold of ${product.initial_stock}`;
    meter.hidden = false;
  }
}

// The badge's words from the last polls: `numbers` (GET /api/products got
// through), `ready` (GET /readyz's body and status, null before its first
// answer). Pure, for node --test.
export function liveState(numbers, ready) {
  if (ready && ready.status === 503 && typeof ready.body === "object" && ready.body) {
    const down = ["postgres", "redis"].filter((name) => ready.body[name] === "down");
    const names = down.map((name) => (name === "postgres" ? "Postgres" : "Redis"));
    return { state: "degraded", text: names.length ? `degraded · ${names.join(" and ")} down` : "degraded" };
  }
  if (!numbers) return { state: "stale", text: "reconnecting…" };
  return { state: "live", text: "live" };
}

// Polls for ever, from now on; `onStrategies(entries)` hears every answer of
// GET /api/strategies.
export function startPolling(cards, live, { onStrategies } = {}) {
  let numbers = true;
  let ready = null;

  function showLive() {
    const { state, text } = liveState(numbers, ready);
    live.hidden = false;
    live.classList.toggle("is-stale", state === "stale");
    live.classList.toggle("is-degraded", state === "degraded");
    live.dataset.state = state;
    live.querySelector(".live-text").textContent = text;
  }

  async function poll() {
    try {
      const response = await fetch("/api/products", { cache: "no-store" });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      for (const product of await response.json()) showProduct(cards, product);
      numbers = true;
    } catch (_) {
      numbers = false;
    } finally {
      showLive();
      setTimeout(poll, document.hidden ? POLL_MS * 4 : POLL_MS);
    }
  }

  // The dependencies and the strategies, less often than the numbers.
  async function pollHealth() {
    try {
      const response = await fetch("/readyz", { cache: "no-store" });
      const body = await response.json().catch(() => null);
      ready = { status: response.status, body };
    } catch (_) {
      ready = null; // The service itself is gone: the numbers' poll says so.
    }
    showLive();
    if (onStrategies) {
      try {
        const response = await fetch("/api/strategies", { cache: "no-store" });
        if (response.ok) onStrategies(await response.json());
      } catch (_) {
        // Unreachable: the badge says so; the switch keeps what it showed.
      }
    }
    setTimeout(pollHealth, document.hidden ? HEALTH_MS * 4 : HEALTH_MS);
  }

  poll();
  pollHealth();
}
