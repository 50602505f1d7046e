// The live numbers: every product card's stock, orders, oversold and lost
// updates, and its meter, from GET /api/products every half second (every
// two seconds while the tab is hidden); the "live" badge says whether the
// last poll got through.

const POLL_MS = 500;
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

// Polls for ever, from now on.
export function startPolling(cards, live) {
  function setLive(ok) {
    live.hidden = false;
    live.classList.toggle("is-stale", !ok);
    live.querySelector(".live-text").textContent = ok ? "live" : "reconnecting…";
  }

  async function poll() {
    try {
      const response = await fetch("/api/products", { cache: "no-store" });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      for (const product of await response.json()) showProduct(cards, product);
      setLive(true);
    } catch (_) {
      setLive(false);
    } finally {
      setTimeout(poll, document.hidden ? POLL_MS * 4 : POLL_MS);
    }
  }

  poll();
}
