//! The browser demo (issue 4): filled in by the pages work.

use actix_web::web;

pub fn configure(_cfg: &mut web::ServiceConfig) {}
