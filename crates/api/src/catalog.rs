//! What a store can be made of: the engines (and whether each can be provisioned yet) and
//! the plans with their sizes, for the dashboard's create form.

use axum::extract::State;
use storeplane_domain::Engine;

use crate::dto::{EngineView, ErrorBody, PlanView};
use crate::error::ApiJson;
use crate::{AppState, Caller};

/// The engines, with those that cannot be provisioned yet marked unavailable.
#[utoipa::path(
    get, path = "/api/v1/engines", tag = "catalog",
    responses((status = 200, body = [EngineView]), (status = 401, body = ErrorBody))
)]
pub async fn engines(State(state): State<AppState>, _caller: Caller) -> ApiJson<Vec<EngineView>> {
    ApiJson(
        Engine::ALL
            .iter()
            .map(|&engine| EngineView {
                engine,
                available: state.settings.engines.contains(&engine),
            })
            .collect(),
    )
}

/// The plans and how much of the cluster each lets a store use.
#[utoipa::path(
    get, path = "/api/v1/plans", tag = "catalog",
    responses((status = 200, body = [PlanView]), (status = 401, body = ErrorBody))
)]
pub async fn plans(State(state): State<AppState>, _caller: Caller) -> ApiJson<Vec<PlanView>> {
    ApiJson(state.settings.plans.clone())
}
