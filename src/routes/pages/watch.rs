//! "Watch N buyers": a traced crowd of a few buyers (`"trace": true`), which
//! the page's script draws as one lane per buyer on a time axis. The control
//! is a script feature: without JavaScript its section stays hidden and a
//! note says what it needs. The template reads these bounds directly.

use crate::timeline::MAX_TRACED_BUYERS;

/// Buyers the control starts with: few enough to tell apart, enough to
/// crowd a stock of two.
pub const DEFAULT_BUYERS: u32 = 8;
/// Fewest buyers: a race needs two.
pub const MIN_BUYERS: u32 = 2;
/// Most buyers: the API's bound for a traced crowd.
pub const MAX_BUYERS: u32 = MAX_TRACED_BUYERS;

const _: () = assert!(MIN_BUYERS <= DEFAULT_BUYERS && DEFAULT_BUYERS <= MAX_BUYERS);
