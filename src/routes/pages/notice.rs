//! A line of colour on the page: what one action came to (a notice on a
//! product's card) or a crowd's verdict, in green, red, amber or neutral. Below the
//! page's settings, verdicts and view, which all speak in it.

use std::fmt;

#[derive(Debug)]
pub struct Notice {
    pub tone: Tone,
    pub text: String,
}

/// Green, red, amber, or neutral.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Good,
    Bad,
    /// Nothing unsafe, but not a success either: stock left unsold while
    /// buyers were turned away.
    Warn,
    Info,
}

impl fmt::Display for Tone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Tone::Good => "good",
            Tone::Bad => "bad",
            Tone::Warn => "warn",
            Tone::Info => "info",
        })
    }
}
