// Runs side by side: the last flash crowds' verdicts, newest first, kept
// for the tab's session (sessionStorage) until "Clear" is pressed.

const RUNS_KEY = "flashsale.runs";
const MAX_RUNS = 12;

// Shows the runs kept so far; returns `remember(run)`, which keeps one more
// (a `summary` from words.js) and shows it.
export function startRuns() {
  const runsBox = document.getElementById("runs");
  const history = document.getElementById("history");
  const clearRuns = document.getElementById("clear-runs");

  function loadRuns() {
    try {
      const runs = JSON.parse(sessionStorage.getItem(RUNS_KEY) || "[]");
      return Array.isArray(runs) ? runs : [];
    } catch (_) {
      return [];
    }
  }

  function remember(run) {
    const runs = [run, ...loadRuns()].slice(0, MAX_RUNS);
    try {
      sessionStorage.setItem(RUNS_KEY, JSON.stringify(runs));
    } catch (_) {
      // Storage refused (private mode): the runs still show until a reload.
    }
    drawRuns(runs);
  }

  function drawRuns(runs) {
    const items = runs.map((run) => {
      const item = document.createElement("li");
      item.className = `run ${["bad", "warn"].includes(run.tone) ? run.tone : "good"}`;
      for (const [part, text] of [
        ["run-lock", `lock ${run.lock}`],
        ["run-sold", run.sold],
        ["run-over", run.over],
        ["run-meta", run.meta],
      ]) {
        const span = document.createElement("span");
        span.className = part;
        span.textContent = text;
        item.append(span);
      }
      return item;
    });
    history.replaceChildren(...items);
    runsBox.hidden = runs.length === 0;
  }

  clearRuns.addEventListener("click", () => {
    sessionStorage.removeItem(RUNS_KEY);
    drawRuns([]);
  });
  drawRuns(loadRuns());
  return remember;
}
