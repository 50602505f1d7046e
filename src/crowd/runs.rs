//! Crowd reports, kept so that a page shows a verdict by the crowd's id and
//! never from numbers in its address.

use sqlx::PgPool;
use sqlx::types::Json;
use uuid::Uuid;

use super::CrowdReport;

/// How many reports are kept; older ones are deleted as new ones come.
const KEPT: i64 = 500;

pub(super) async fn save_report(db: &PgPool, report: &CrowdReport) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO crowd_runs (id, product_id, report) VALUES ($1, $2, $3)")
        .bind(report.crowd_id)
        .bind(report.product.id.get())
        .bind(Json(report))
        .execute(db)
        .await?;
    sqlx::query(
        "DELETE FROM crowd_runs WHERE created_at < (
             SELECT created_at FROM crowd_runs ORDER BY created_at DESC OFFSET $1 LIMIT 1
         )",
    )
    .bind(KEPT)
    .execute(db)
    .await?;
    Ok(())
}

/// The report of crowd `id`, if it is still kept.
pub async fn find_report(db: &PgPool, id: Uuid) -> Result<Option<CrowdReport>, sqlx::Error> {
    let report: Option<Json<CrowdReport>> =
        sqlx::query_scalar("SELECT report FROM crowd_runs WHERE id = $1")
            .bind(id)
            .fetch_optional(db)
            .await?;
    Ok(report.map(|Json(report)| report))
}
