//! What the catalogue says of each strategy: the types every strategy file
//! fills in for its `INFO`, kept apart from the catalogue that lists them so
//! that a strategy never imports the list it is in.

use serde::Serialize;

/// What kind of guard a strategy is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// No guard at all.
    None,
    /// A lock in one Redis server.
    Redis,
    /// A lock over several independent Redis nodes.
    Redlock,
    /// A lock inside one process.
    Local,
    /// Postgres alone.
    Postgres,
    /// Fast and safe: the stock leaves the one-buyer-at-a-time critical
    /// section (a batch of buyers per transaction, or a gate in Redis and
    /// the order written later).
    Fast,
    /// Broken on purpose: a bug from the documents.
    Broken,
}

/// What a strategy needs besides the Postgres that holds the stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Needs {
    Nothing,
    Redis,
    RedlockNodes,
}

/// One entry of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StrategyInfo {
    pub label: &'static str,
    pub family: Family,
    /// Safe on several instances when the work fits the TTL.
    pub safe: bool,
    /// The one sentence it teaches.
    pub lesson: &'static str,
    /// The scenario under which it breaks (or why it holds).
    pub breaks_when: &'static str,
    pub needs: Needs,
    /// Whether `ttl_ms` means anything to it.
    pub uses_ttl: bool,
}
