//! The browser demo end to end, in a real headless Chromium driven through
//! chromedriver (WebDriver), against the service spawned with a database of
//! its own: buy one unit and see the stock drop by one; pick lock strategies
//! and see their lessons (and the TTL knob) change; see a bad TTL refused in
//! the service's words; run a flash crowd with the lock off and see an
//! oversold figure above zero; run it with the lock on and see zero. Saves a
//! screenshot of the page after the crowds to `target/e2e/flash-crowd.png`
//! and to `docs/screenshot.png` (the README's first picture, checked by
//! `readme` without a browser),
//! of a strategy without a TTL chosen to `target/e2e/lock-lab.png`, and of
//! the page on a phone to `target/e2e/phone.png` (whole) and
//! `target/e2e/phone-switch.png` (scrolled to the switch), and prints their
//! paths. A second test watches 8 buyers with the lock off and on and finds
//! a lane per buyer in each timeline, side by side, then with a TTL shorter
//! than the work and finds the locks expiring in their boxes, on one time
//! scale with the run beside (`target/e2e/timeline-off.png`,
//! `timeline-on.png`, `timeline-expired.png`, `timeline-phone.png`).
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them
//! when missing); `CHROMIUM` and `CHROMEDRIVER` may name other binaries.
//! Without a browser the test fails: it never passes without having run.
//!
//! A third test runs a `broken-lua-nil` crowd at 1280×720 and finds an amber
//! "nothing sold" verdict naming busy, the products above the fold, the
//! runs in view and the deadline knob disabled where it means nothing
//! (`target/e2e/fold-1280x720.png`, `nothing-sold.png`, `runs-1280x720.png`);
//! a fourth stops a Redis of its own and finds the header degraded and the
//! Redis strategies greyed out without a reload (`redis-down.png`).
//!
//! One file per panel of the page: `crowd` (buy, the lock lab, the flash
//! crowd, the page on a phone), `timeline` (watch 8 buyers), `verdicts`
//! (an undersold crowd, the first screen), `health` (Redis down) and
//! `readme` (the README's first picture is the one `crowd` saves);
//! `helpers` reads and drives the page, `browser` starts chromedriver and
//! Chromium.

mod browser;
mod crowd;
mod docs;
mod health;
mod helpers;
mod readme;
mod timeline;
mod verdicts;
