//! The audit log's public face: the latest signed checkpoint and proofs anyone can check with
//! the public key. Only hashes leave this way, never an entry's content.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::problem::{ApiError, ErrorCode, Problem, store_error};

fn query_error(rejection: &QueryRejection) -> ApiError {
    ApiError::with_detail(ErrorCode::BadRequest, rejection.body_text())
}

/// Bytes as lowercase hex: digests, keys, signatures.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The latest signed checkpoint of the audit log.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckpointView {
    pub origin: String,
    pub tree_size: u64,
    /// Root hash, 64 hexadecimal digits.
    pub root: String,
    pub timestamp_ms: i64,
    /// The signed checkpoint in its text form (body, blank line, signature line).
    pub signed_text: String,
    /// The Ed25519 public key that verifies the signature, in hexadecimal.
    pub public_key: String,
}

/// The latest signed checkpoint (tree size, root, time) of the tamper-evident audit log.
#[utoipa::path(get, path = "/api/v1/audit/checkpoint", tag = "seguridad",
    responses(
        (status = 200, description = "El último punto de control firmado", body = CheckpointView),
        (status = 404, description = "Aún no hay puntos de control", body = Problem,
            content_type = "application/problem+json"),
    ))]
pub async fn latest_checkpoint(
    State(state): State<AppState>,
) -> Result<Json<CheckpointView>, ApiError> {
    let row = state
        .db
        .latest_checkpoint()
        .await
        .map_err(|error| store_error(&error))?
        .ok_or_else(|| {
            ApiError::with_detail(ErrorCode::NotFound, "aún no hay puntos de control firmados")
        })?;
    let signed = ceiba_audit::SignedCheckpoint::parse(&row.signed_text).map_err(|error| {
        tracing::error!(%error, tree_size = row.tree_size, "a stored checkpoint does not parse");
        ApiError::new(ErrorCode::Internal)
    })?;
    let checkpoint = &signed.checkpoint;
    Ok(Json(CheckpointView {
        origin: checkpoint.origin().to_owned(),
        tree_size: checkpoint.tree_size(),
        root: checkpoint.root().to_string(),
        timestamp_ms: checkpoint.timestamp_ms(),
        signed_text: row.signed_text,
        public_key: hex(&state.audit_public_key),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InclusionQuery {
    /// The entry's index, from 0.
    pub index: u64,
    /// The tree size to prove against; the current one when absent.
    pub tree_size: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InclusionProofView {
    pub index: u64,
    pub tree_size: u64,
    pub leaf_hash: String,
    pub root: String,
    /// RFC 6962 audit path, leaf to root, hexadecimal.
    pub audit_path: Vec<String>,
}

/// An RFC 6962 inclusion proof: that entry `index` is in the tree of `tree_size` entries.
#[utoipa::path(get, path = "/api/v1/audit/proofs/inclusion", tag = "seguridad",
    params(InclusionQuery),
    responses(
        (status = 200, description = "La prueba, ya comprobada", body = InclusionProofView),
        (status = 400, description = "Parámetros no válidos", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No hay tal entrada o tamaño", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn inclusion_proof(
    State(state): State<AppState>,
    query: Result<Query<InclusionQuery>, QueryRejection>,
) -> Result<Json<InclusionProofView>, ApiError> {
    let Query(query) = query.map_err(|rejection| query_error(&rejection))?;
    let proof = state
        .db
        .audit_inclusion_proof(query.index, query.tree_size)
        .await
        .map_err(|error| store_error(&error))?;
    Ok(Json(InclusionProofView {
        index: proof.index,
        tree_size: proof.tree_size,
        leaf_hash: proof.leaf_hash.to_string(),
        root: proof.root.to_string(),
        audit_path: proof.audit_path.iter().map(ToString::to_string).collect(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConsistencyQuery {
    /// The earlier tree size.
    pub first: u64,
    /// The later tree size; the current one when absent.
    pub second: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsistencyProofView {
    pub first: u64,
    pub second: u64,
    pub first_root: String,
    pub second_root: String,
    /// RFC 6962 consistency proof, hexadecimal.
    pub proof: Vec<String>,
}

/// An RFC 6962 consistency proof: that the tree of `first` entries is a prefix of the tree of
/// `second` entries, so nothing logged was changed or removed in between.
#[utoipa::path(get, path = "/api/v1/audit/proofs/consistency", tag = "seguridad",
    params(ConsistencyQuery),
    responses(
        (status = 200, description = "La prueba, ya comprobada", body = ConsistencyProofView),
        (status = 400, description = "Parámetros no válidos", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No hay tal tamaño", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn consistency_proof(
    State(state): State<AppState>,
    query: Result<Query<ConsistencyQuery>, QueryRejection>,
) -> Result<Json<ConsistencyProofView>, ApiError> {
    let Query(query) = query.map_err(|rejection| query_error(&rejection))?;
    let proof = state
        .db
        .audit_consistency_proof(query.first, query.second)
        .await
        .map_err(|error| store_error(&error))?;
    Ok(Json(ConsistencyProofView {
        first: proof.first,
        second: proof.second,
        first_root: proof.first_root.to_string(),
        second_root: proof.second_root.to_string(),
        proof: proof.proof.iter().map(ToString::to_string).collect(),
    }))
}
