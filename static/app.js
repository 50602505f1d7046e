// flashsale's page: live numbers, the Buy button, restock and the flash crowd
// through the JSON API, in place; the lesson of the chosen lock strategy,
// from the texts the page carries; the buyers of a small crowd watched on a
// timeline. Without this script every button is a plain form POST that comes
// back to the page with its outcome.
//
// The entry module (templates/base.html loads it with type="module"): it
// finds the page's parts and starts one module per concern. Every module is
// served by the service itself (src/routes/pages/assets.rs lists them).

import { startButtons } from "./buttons.js";
import { productCards, showProduct, startPolling } from "./live.js";
import { startRuns } from "./runs.js";
import { startSwitch } from "./switch.js";
import { startWatch } from "./watch.js";

const form = document.getElementById("demo");
if (form && window.fetch) {
  const cards = productCards(document);
  const show = (product) => showProduct(cards, product);
  const lockSwitch = startSwitch(form);
  const remember = startRuns();
  startWatch(form, { show });
  startButtons(form, cards, { show, remember });
  startPolling(cards, document.getElementById("live"), { onStrategies: lockSwitch.showAvailability });
}
