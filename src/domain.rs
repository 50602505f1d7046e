//! Values that parse: a handler only ever receives valid ones.
//!
//! Each `parse` returns a [`InvalidInput`] naming the field and the problem,
//! which the HTTP edge turns into a 400 with a stable error code.

use std::fmt;
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
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// A product's id: a positive 64-bit integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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

/// In the OpenAPI document: a positive 64-bit integer.
impl utoipa::PartialSchema for ProductId {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
            .minimum(Some(1))
            .examples([1])
            .into()
    }
}

impl utoipa::ToSchema for ProductId {}

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

/// A whole number of milliseconds within fixed bounds, parsed from a query or
/// a body; out of range is a 400 naming the field.
macro_rules! bounded_millis {
    ($(#[$doc:meta])* $name:ident, field = $field:literal, code = $code:literal, $min:literal ..= $max:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
        #[serde(transparent)]
        pub struct $name(u64);

        impl $name {
            pub const MIN_MS: u64 = $min;
            pub const MAX_MS: u64 = $max;
            pub const FIELD: &'static str = $field;

            pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
                match raw.trim().parse::<u64>() {
                    Ok(ms) => Self::from_millis(ms),
                    Err(_) => Err(Self::out_of_range(raw)),
                }
            }

            pub fn from_millis(ms: u64) -> Result<Self, InvalidInput> {
                if (Self::MIN_MS..=Self::MAX_MS).contains(&ms) {
                    Ok(Self(ms))
                } else {
                    Err(Self::out_of_range(ms))
                }
            }

            fn out_of_range(raw: impl fmt::Display) -> InvalidInput {
                InvalidInput::new(
                    $code,
                    format!(
                        "{} must be a whole number from {} to {}, got `{raw}`",
                        Self::FIELD,
                        Self::MIN_MS,
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
    };
}

bounded_millis!(
    /// The simulated business step inside the critical section (0 to 2000 ms):
    /// the "此处省略" of the tutorial, which widens the race window.
    WorkDelay, field = "work_ms", code = "invalid_work_ms", 0..=2000
);

/// No business step unless asked for.
impl Default for WorkDelay {
    fn default() -> Self {
        Self(Self::MIN_MS)
    }
}

bounded_millis!(
    /// A stop in the critical section right after the stock was read (0 to
    /// 30,000 ms), as a GC pause or a SIGSTOP would make one: the holder stands
    /// still while its lock may expire under it.
    PauseDelay, field = "pause_ms", code = "invalid_pause_ms", 0..=30000
);

/// No pause unless asked for.
impl Default for PauseDelay {
    fn default() -> Self {
        Self(Self::MIN_MS)
    }
}

bounded_millis!(
    /// How long a lock taken for one purchase lives (100 to 60,000 ms);
    /// overrides `LOCK_TTL_MS` for that purchase.
    LockTtl, field = "ttl_ms", code = "invalid_ttl_ms", 100..=60000
);

bounded_millis!(
    /// How long one purchase waits for its lock before 429 (0 to 30,000 ms);
    /// overrides `LOCK_DEADLINE_MS` for that purchase.
    LockDeadline, field = "deadline_ms", code = "invalid_deadline_ms", 0..=30000
);

/// The lab's knobs on one purchase, as they arrive (query string, JSON body
/// or form), before parsing. Shared by the purchase, the crowd and the page.
/// The document's bounds are the types' own (a test in `routes::openapi`
/// compares them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RawKnobs {
    /// The business step inside the critical section, in ms. Above 100 it
    /// needs the admin token when one is set.
    #[param(value_type = Option<u64>, minimum = 0, maximum = 2000, example = 20)]
    pub work_ms: Option<String>,
    /// A pause right after the stock was read, in ms (admin token).
    #[param(value_type = Option<u64>, minimum = 0, maximum = 30000)]
    pub pause_ms: Option<String>,
    /// The lock's TTL for this purchase, in ms (admin token).
    #[param(value_type = Option<u64>, minimum = 100, maximum = 60000)]
    pub ttl_ms: Option<String>,
    /// How long to wait for the lock before 429, in ms (admin token).
    #[param(value_type = Option<u64>, minimum = 0, maximum = 30000)]
    pub deadline_ms: Option<String>,
}

/// The lab's knobs, parsed: the business step, a pause, and the lock's TTL and
/// deadline when the purchase overrides the service's settings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Knobs {
    pub work: WorkDelay,
    pub pause: PauseDelay,
    pub ttl: Option<LockTtl>,
    pub deadline: Option<LockDeadline>,
}

impl Knobs {
    pub fn parse(raw: &RawKnobs) -> Result<Self, InvalidInput> {
        fn field<T>(
            raw: &Option<String>,
            parse: fn(&str) -> Result<T, InvalidInput>,
        ) -> Result<Option<T>, InvalidInput> {
            raw.as_deref().map(parse).transpose()
        }
        Ok(Self {
            work: field(&raw.work_ms, WorkDelay::parse)?.unwrap_or_default(),
            pause: field(&raw.pause_ms, PauseDelay::parse)?.unwrap_or_default(),
            ttl: field(&raw.ttl_ms, LockTtl::parse)?,
            deadline: field(&raw.deadline_ms, LockDeadline::parse)?,
        })
    }

    /// Back to the raw form, e.g. to put the knobs in a link.
    pub fn to_raw(self) -> RawKnobs {
        RawKnobs {
            work_ms: Some(self.work.millis().to_string()),
            pause_ms: Some(self.pause.millis().to_string()),
            ttl_ms: self.ttl.map(|t| t.millis().to_string()),
            deadline_ms: self.deadline.map(|d| d.millis().to_string()),
        }
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

/// How many units one buyer may get of a product (1 to [`PerBuyer::MAX`]),
/// set with the stock; no value means no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct PerBuyer(i32);

impl PerBuyer {
    pub const MAX: i64 = 10_000;

    pub fn new(limit: i64) -> Result<Self, InvalidInput> {
        match i32::try_from(limit) {
            Ok(n) if (1..=Self::MAX).contains(&limit) => Ok(Self(n)),
            _ => Err(InvalidInput::new(
                "invalid_per_buyer",
                format!(
                    "per_buyer must be a whole number from 1 to {} (or null for no limit), got {limit}",
                    Self::MAX
                ),
            )),
        }
    }

    pub fn get(self) -> i32 {
        self.0
    }
}

/// How a purchase checks the per-buyer limit: `key` (the database's counter
/// row, in the same statement as the decrement) or `count` (the tutorials'
/// `SELECT count(*)` before the sale, which two clicks at once both pass).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateCheck {
    #[default]
    Key,
    Count,
}

impl DuplicateCheck {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        match raw.trim() {
            "key" => Ok(Self::Key),
            "count" => Ok(Self::Count),
            other => Err(InvalidInput::new(
                "invalid_duplicate_check",
                format!("duplicate_check must be `key` or `count`, got `{other}`"),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Key => "key",
            Self::Count => "count",
        }
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
    fn work_delay_is_bounded() {
        assert_eq!(WorkDelay::parse("2000").unwrap().millis(), 2000);
        assert_eq!(WorkDelay::parse("0").unwrap().millis(), 0);
        for bad in ["2001", "-5", "ten"] {
            assert_eq!(WorkDelay::parse(bad).unwrap_err().code, "invalid_work_ms");
        }
    }

    #[test]
    fn lab_knobs_are_bounded_and_name_their_field() {
        let raw = RawKnobs {
            work_ms: Some("20".into()),
            pause_ms: None,
            ttl_ms: Some("300".into()),
            deadline_ms: None,
        };
        let knobs = Knobs::parse(&raw).unwrap();
        assert_eq!(knobs.work.millis(), 20);
        assert_eq!(knobs.pause.millis(), 0);
        assert_eq!(knobs.ttl.unwrap().millis(), 300);
        assert_eq!(knobs.deadline, None);
        assert_eq!(Knobs::parse(&knobs.to_raw()).unwrap(), knobs);

        for (raw, code) in [
            (
                RawKnobs {
                    ttl_ms: Some("99".into()),
                    ..RawKnobs::default()
                },
                "invalid_ttl_ms",
            ),
            (
                RawKnobs {
                    ttl_ms: Some("60001".into()),
                    ..RawKnobs::default()
                },
                "invalid_ttl_ms",
            ),
            (
                RawKnobs {
                    deadline_ms: Some("30001".into()),
                    ..RawKnobs::default()
                },
                "invalid_deadline_ms",
            ),
            (
                RawKnobs {
                    pause_ms: Some("-1".into()),
                    ..RawKnobs::default()
                },
                "invalid_pause_ms",
            ),
        ] {
            assert_eq!(Knobs::parse(&raw).unwrap_err().code, code);
        }
        assert!(LockDeadline::parse("0").is_ok());
    }

    #[test]
    fn stock_levels_are_bounded() {
        assert!(StockLevel::new(0).is_ok());
        assert!(StockLevel::new(1_000_000).is_ok());
        assert!(StockLevel::new(-1).is_err());
        assert!(StockLevel::new(1_000_001).is_err());
    }

    #[test]
    fn per_buyer_limits_are_positive_and_bounded() {
        assert_eq!(PerBuyer::new(1).unwrap().get(), 1);
        assert_eq!(PerBuyer::new(10_000).unwrap().get(), 10_000);
        for bad in [0, -1, 10_001, i64::MAX] {
            assert_eq!(PerBuyer::new(bad).unwrap_err().code, "invalid_per_buyer");
        }
        assert_eq!(
            DuplicateCheck::parse("count").unwrap(),
            DuplicateCheck::Count
        );
        assert_eq!(DuplicateCheck::parse("key").unwrap(), DuplicateCheck::Key);
        assert_eq!(
            DuplicateCheck::parse("maybe").unwrap_err().code,
            "invalid_duplicate_check"
        );
    }

    #[test]
    fn buyer_names_are_short_printable_text() {
        assert_eq!(BuyerName::parse(" ann ").unwrap().as_str(), "ann");
        assert!(BuyerName::parse("").is_err());
        assert!(BuyerName::parse("a\nb").is_err());
        assert!(BuyerName::parse(&"x".repeat(65)).is_err());
    }
}
