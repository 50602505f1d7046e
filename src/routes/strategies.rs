use actix_web::{HttpResponse, web};
use serde::Serialize;

use crate::lab::Availability;
use crate::lock::StrategyInfo;
use crate::state::AppState;

/// One entry of `GET /api/strategies`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StrategyEntry {
    /// The `lock=` name: a contract users' scripts rely on.
    #[schema(value_type = crate::lock::Strategy)]
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
#[utoipa::path(
    get,
    path = "/api/strategies",
    tag = "strategies",
    responses((
        status = 200,
        description = "Every strategy, in the order the page lists them.",
        body = [StrategyEntry],
        example = json!([{
            "name": "redis", "label": "Redis spin lock", "family": "redis", "safe": true,
            "lesson": "SET NX PX with a random token, retried until a deadline, released by a Lua compare-and-delete: one buyer at a time.",
            "breaks_when": "the work or a pause outlives the TTL: the lock expires under its holder and the next buyer reads the same stock",
            "needs": "redis", "uses_ttl": true,
            "uses_deadline": true, "available": true, "unavailable_reason": null, "default": true
        }])
    ))
)]
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
