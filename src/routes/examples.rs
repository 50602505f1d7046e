//! The examples of the OpenAPI document that several answers share (the
//! document checks each against its schema: tests/api/openapi.rs).

use serde_json::{Value, json};

pub fn product() -> Value {
    json!({
        "id": 1, "name": "Limited sneaker", "initial_stock": 100, "stock": 97,
        "orders": 3, "oversold": 0, "lost_updates": 0, "per_buyer": null,
        "duplicates": 0, "queued": 0
    })
}

/// 20 buyers, lock off, stock 10: ten units that did not exist.
pub fn crowd_report() -> Value {
    // Parsed, not `json!`: an object this long exceeds the macro's
    // recursion limit.
    let mut report: Value = serde_json::from_str(
        r#"{
            "crowd_id": "6f1c2b9a-3d4e-4f5a-8b7c-1d2e3f4a5b6c", "buyers": 20,
            "clicks_per_buyer": 1, "lock": "none", "work_ms": 5, "pause_ms": 0,
            "ttl_ms": null, "deadline_ms": null, "stock_before": 10, "sold": 20,
            "oversold": 10, "restocked_during": false, "sold_after_restock": 0,
            "undersold": 0, "sold_out": 0, "busy": 0, "lock_lost": 0, "restocked": 0,
            "limit_reached": 0, "duplicates": 0, "unavailable": 0, "failed": 0,
            "not_started": 0, "elapsed_ms": 31, "accepted": 20, "queued": 0,
            "written": 20, "lost_orders": 0, "still_queued": 0, "drain_ms": 0,
            "durable_orders_per_s": 645.2
        }"#,
    )
    .expect("the example is JSON");
    report["product"] = json!({
        "id": 1, "name": "Limited sneaker", "initial_stock": 10, "stock": 9,
        "orders": 20, "oversold": 10, "lost_updates": 19, "per_buyer": null,
        "duplicates": 0, "queued": 0
    });
    report
}

pub fn order(status: &str) -> Value {
    let lock = if status == "queued" {
        "redis-stream"
    } else {
        "redis"
    };
    json!({
        "order_id": "0b7e5d8e-5f7a-4c1e-9d7e-2f1f4a6b8c90", "product_id": 1,
        "status": status, "remaining_stock": 97, "lock": lock
    })
}
