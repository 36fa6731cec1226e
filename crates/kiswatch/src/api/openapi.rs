//! `GET /api/openapi.json`: the OpenAPI document, generated from the handlers' annotations
//! (utoipa), so it cannot drift from the routes; a snapshot test keeps changes to it deliberate.

use axum::Json;
use utoipa::OpenApi;

use super::error::{ErrorBody, ErrorDetail};
use crate::contract::{Trigger, TriggerValues};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "kiswatch",
        description = "Watch Korean stocks through the KIS Open API: stocks, candles, watchlist, conditions, triggers."
    ),
    paths(
        super::health::health,
        super::stocks::search,
        super::stocks::stock,
        super::stocks::price,
        super::stocks::order_book,
        super::stocks::executions,
        super::stocks::snapshot,
        super::stocks::candles,
        super::watchlist::list,
        super::watchlist::add,
        super::watchlist::reorder,
        super::watchlist::remove,
        super::conditions::list,
        super::conditions::create,
        super::conditions::get_one,
        super::conditions::update,
        super::conditions::delete,
        super::triggers::list,
        super::triggers::ack,
        super::backtest::run,
        super::ws::upgrade,
        super::metrics::metrics,
    ),
    components(schemas(ErrorBody, ErrorDetail, Trigger, TriggerValues))
)]
pub struct ApiDoc;

/// The document as served.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(document())
}
