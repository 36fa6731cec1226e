//! `GET /api/openapi.json`: the OpenAPI document, generated from the handlers' annotations
//! (utoipa), so it cannot drift from the routes; a snapshot test keeps changes to it deliberate.
//! Every answer's schema is a [`crate::contract`] struct; the WebSocket's server messages
//! ([`ServerMessage`]) are listed as components, so the web UI's generated types cover them too.

use axum::Json;
use utoipa::OpenApi;

use crate::contract::{ErrorBody, ErrorDetail};
use crate::hub::protocol::ServerMessage;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "kiswatch",
        description = "Watch Korean stocks through the KIS Open API: stocks, candles, watchlist, conditions, triggers, alert channels."
    ),
    paths(
        super::health::health,
        super::market_time::market,
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
        super::scans::matches,
        super::scans::events,
        super::scans::backtest,
        super::kis_scans::ranking,
        super::kis_scans::hts_conditions,
        super::kis_scans::hts_matches,
        super::triggers::list,
        super::triggers::ack,
        super::channels::deliveries,
        super::channels::list,
        super::channels::create,
        super::channels::get_one,
        super::channels::update,
        super::channels::delete,
        super::channels::test,
        super::channels::push_key,
        super::backtest::run,
        super::ws::upgrade,
        super::metrics::metrics,
    ),
    components(schemas(ErrorBody, ErrorDetail, ServerMessage))
)]
pub struct ApiDoc;

/// The document as served.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(document())
}
