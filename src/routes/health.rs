use actix_web::{HttpResponse, web};
use serde_json::json;
use tokio::time::timeout;

use crate::lock::NodeConnection;
use crate::state::AppState;

/// The process is up.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Ready only while both Postgres and Redis answer, and not once a shutdown
/// has begun: a load balancer (HAProxy, a Kubernetes Service) then stops
/// sending buyers here while the sales in flight finish.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    if state.shop.shutdown.is_cancelled() {
        return HttpResponse::ServiceUnavailable().json(json!({ "status": "shutting_down" }));
    }
    let postgres = async {
        let ping = sqlx::query("SELECT 1").execute(&state.shop.db);
        matches!(timeout(state.db_timeout, ping).await, Ok(Ok(_)))
    };
    let redis = async {
        // Through the same one retry as the locks' commands: the first PING
        // after Redis was down a while must not report it down.
        let mut connection = NodeConnection::new(state.redis.clone());
        let ping = redis::cmd("PING");
        let reply = timeout(
            state.redis_timeout,
            ping.query_async::<String>(&mut connection),
        );
        matches!(reply.await, Ok(Ok(_)))
    };
    let (postgres, redis) = tokio::join!(postgres, redis);
    let word = |up: bool| if up { "up" } else { "down" };
    let body = json!({
        "status": if postgres && redis { "ready" } else { "unavailable" },
        "postgres": word(postgres),
        "redis": word(redis),
    });
    if postgres && redis {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
