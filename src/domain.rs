//! Values that parse: a handler only ever receives valid ones.
//!
//! Each `parse` returns a [`InvalidInput`] naming the field and the problem,
//! which the HTTP edge turns into a 400 with a stable error code.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A rejected input: a stable machine-readable code and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InvalidInput {
    pub code: &'static str,
    pub message: String,
}

impl InvalidInput {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// A product's id: a positive 64-bit integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProductId(i64);

impl ProductId {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        match raw.trim().parse::<i64>() {
            Ok(id) if id > 0 => Ok(Self(id)),
            _ => Err(InvalidInput::new(
                "invalid_product_id",
                format!("product id must be a positive integer, got `{raw}`"),
            )),
        }
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

impl From<i64> for ProductId {
    fn from(id: i64) -> Self {
        Self(id)
    }
}

impl fmt::Display for ProductId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// How a purchase guards its read-then-write of the stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LockMode {
    /// No guard at all: concurrent buyers race and the sale oversells.
    None,
    /// A spin-retry Redis lock per product (SET NX PX, Lua compare-and-delete).
    Redis,
}

impl LockMode {
    pub const ALL: [LockMode; 2] = [LockMode::None, LockMode::Redis];

    pub fn as_str(self) -> &'static str {
        match self {
            LockMode::None => "none",
            LockMode::Redis => "redis",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        Self::ALL
            .into_iter()
            .find(|mode| mode.as_str().eq_ignore_ascii_case(raw.trim()))
            .ok_or_else(|| {
                let known: Vec<_> = Self::ALL.iter().map(|m| m.as_str()).collect();
                InvalidInput::new(
                    "invalid_lock_mode",
                    format!(
                        "unknown lock mode `{raw}`; expected one of: {}",
                        known.join(", ")
                    ),
                )
            })
    }
}

impl FromStr for LockMode {
    type Err = InvalidInput;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Self::parse(raw)
    }
}

impl fmt::Display for LockMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The simulated business step inside the critical section (0 to 2000 ms):
/// the "此处省略" of the tutorial, which widens the race window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct WorkDelay(u64);

impl WorkDelay {
    pub const MAX_MS: u64 = 2000;

    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        match raw.trim().parse::<u64>() {
            Ok(ms) => Self::from_millis(ms),
            Err(_) => Err(Self::out_of_range(raw)),
        }
    }

    pub fn from_millis(ms: u64) -> Result<Self, InvalidInput> {
        if ms <= Self::MAX_MS {
            Ok(Self(ms))
        } else {
            Err(Self::out_of_range(ms))
        }
    }

    fn out_of_range(raw: impl fmt::Display) -> InvalidInput {
        InvalidInput::new(
            "invalid_work_ms",
            format!(
                "work_ms must be a whole number from 0 to {}, got `{raw}`",
                Self::MAX_MS
            ),
        )
    }

    pub fn millis(self) -> u64 {
        self.0
    }

    pub fn duration(self) -> Duration {
        Duration::from_millis(self.0)
    }
}

/// A stock level to restock a product with (0 to 1,000,000).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StockLevel(i64);

impl StockLevel {
    pub const MAX: i64 = 1_000_000;

    pub fn new(stock: i64) -> Result<Self, InvalidInput> {
        if (0..=Self::MAX).contains(&stock) {
            Ok(Self(stock))
        } else {
            Err(InvalidInput::new(
                "invalid_stock",
                format!(
                    "stock must be a whole number from 0 to {}, got {stock}",
                    Self::MAX
                ),
            ))
        }
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

/// Who bought: free text recorded on the order, at most 64 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BuyerName(String);

impl BuyerName {
    pub const MAX_CHARS: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let name = raw.trim();
        if name.is_empty()
            || name.chars().count() > Self::MAX_CHARS
            || name.chars().any(char::is_control)
        {
            return Err(InvalidInput::new(
                "invalid_user",
                format!("user must be 1 to {} printable characters", Self::MAX_CHARS),
            ));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_ids_are_positive_integers() {
        assert_eq!(ProductId::parse("7").unwrap().get(), 7);
        for bad in ["0", "-1", "abc", "", "1.5", "99999999999999999999"] {
            assert_eq!(
                ProductId::parse(bad).unwrap_err().code,
                "invalid_product_id"
            );
        }
    }

    #[test]
    fn lock_modes_parse_by_name_only() {
        assert_eq!(LockMode::parse("redis").unwrap(), LockMode::Redis);
        assert_eq!(LockMode::parse("NONE").unwrap(), LockMode::None);
        let error = LockMode::parse("mutex").unwrap_err();
        assert_eq!(error.code, "invalid_lock_mode");
        assert!(error.message.contains("none, redis"), "{}", error.message);
    }

    #[test]
    fn work_delay_is_bounded() {
        assert_eq!(WorkDelay::parse("2000").unwrap().millis(), 2000);
        assert_eq!(WorkDelay::parse("0").unwrap().millis(), 0);
        for bad in ["2001", "-5", "ten"] {
            assert_eq!(WorkDelay::parse(bad).unwrap_err().code, "invalid_work_ms");
        }
    }

    #[test]
    fn stock_levels_are_bounded() {
        assert!(StockLevel::new(0).is_ok());
        assert!(StockLevel::new(1_000_000).is_ok());
        assert!(StockLevel::new(-1).is_err());
        assert!(StockLevel::new(1_000_001).is_err());
    }

    #[test]
    fn buyer_names_are_short_printable_text() {
        assert_eq!(BuyerName::parse(" ann ").unwrap().as_str(), "ann");
        assert!(BuyerName::parse("").is_err());
        assert!(BuyerName::parse("a\nb").is_err());
        assert!(BuyerName::parse(&"x".repeat(65)).is_err());
    }
}
