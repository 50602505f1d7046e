//! What every handler is handed: one pool, one Redis connection, the settings
//! they need. Cheap to clone.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::ConnectionManager;

use crate::crowd::CrowdSlots;
use crate::lock::Strategy;
use crate::purchase::Shop;

#[derive(Clone)]
pub struct AppState {
    pub shop: Shop,
    /// How many flash crowds this instance runs at once.
    pub crowds: CrowdSlots,
    /// For readiness checks; the lock holds its own clone.
    pub redis: ConnectionManager,
    pub default_lock_mode: Strategy,
    pub redis_timeout: Duration,
    pub db_timeout: Duration,
    /// Swagger UI's files, for `GET /api/docs` (API_DOCS_DIR).
    pub api_docs_dir: Arc<Path>,
}
