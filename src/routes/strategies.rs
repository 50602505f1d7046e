use actix_web::{HttpResponse, web};
use serde::Serialize;

use crate::lab::Availability;
use crate::lock::StrategyInfo;
use crate::state::AppState;

/// One entry of `GET /api/strategies`.
#[derive(Debug, Serialize)]
struct StrategyEntry {
    /// The `lock=` name: a contract users' scripts rely on.
    name: &'static str,
    #[serde(flatten)]
    info: &'static StrategyInfo,
    /// Whether `deadline_ms` means anything to it (it waits for a lock).
    uses_deadline: bool,
    #[serde(flatten)]
    availability: Availability,
    /// The strategy used when a purchase names none.
    default: bool,
}

/// The lock lab's catalogue: every strategy, what it teaches, whether it is
/// safe, and whether it can be used right now.
pub async fn list(state: web::Data<AppState>) -> HttpResponse {
    let entries: Vec<StrategyEntry> = state
        .shop
        .lab
        .availability()
        .into_iter()
        .map(|(strategy, availability)| StrategyEntry {
            name: strategy.as_str(),
            info: strategy.info(),
            uses_deadline: strategy.uses_deadline(),
            availability,
            default: strategy == state.default_lock_mode,
        })
        .collect();
    HttpResponse::Ok().json(entries)
}
