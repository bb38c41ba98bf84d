//! Who is asking: the bearer token of a session, checked on every request, and the proofs of
//! role that handlers take as arguments. A handler that needs an administrator takes
//! `Authorized<Administrator>`; without that value in hand it cannot be written to reach the
//! data, so a missing check is a compile error, not a review finding.

use std::marker::PhantomData;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use ceiba_identity::{Role, SessionToken};
use ceiba_store::{UserRow, UserStatus};

use crate::AppState;
use crate::problem::{ApiError, ErrorCode};

/// Touch a session's last-seen time at most this often, so reads do not each write.
const TOUCH_EVERY_S: u64 = 60;

/// A request from a signed-in person whose session is live.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user: UserRow,
    pub session_id: String,
    /// Whether this session proved the second factor at sign-in.
    pub second_factor: bool,
    session_hash: ceiba_identity::TokenHash,
}

impl Authenticated {
    pub fn session_hash(&self) -> &ceiba_identity::TokenHash {
        &self.session_hash
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.user.roles.contains(&role)
    }
}

fn unauthenticated(detail: &str) -> ApiError {
    ApiError::with_detail(ErrorCode::Unauthenticated, detail)
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Authenticated, ApiError> {
        let header_value = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .ok_or_else(|| unauthenticated("falta la cabecera Authorization: Bearer <token>"))?;
        let token_text = header_value
            .strip_prefix("Bearer ")
            .ok_or_else(|| unauthenticated("se espera Authorization: Bearer <token>"))?;
        // Every failure below reads the same, so a probe learns nothing about which tokens exist.
        let invalid = || unauthenticated("la sesión no es válida o venció");
        let token = SessionToken::parse(token_text.trim()).map_err(|_| invalid())?;
        let hash = token.hash();
        let session = state
            .db
            .session_by_token_hash(&hash)
            .await?
            .ok_or_else(invalid)?;
        let now_s = state.clock.now_s();
        if session.revoked_at_s.is_some()
            || !state
                .session_policy
                .is_valid(session.created_at_s, session.last_seen_at_s, now_s)
        {
            return Err(invalid());
        }
        let user = state
            .db
            .user_by_id(&session.user_id)
            .await?
            .ok_or_else(invalid)?;
        if user.status != UserStatus::Active {
            return Err(invalid());
        }
        if now_s.saturating_sub(session.last_seen_at_s) >= TOUCH_EVERY_S {
            state.db.touch_session(&hash, now_s).await?;
        }
        Ok(Authenticated {
            user,
            second_factor: session.second_factor_at_s.is_some(),
            session_id: session.id,
            session_hash: hash,
        })
    }
}

/// A role as a type, for [`Authorized`].
pub trait RoleMarker: Send + Sync + 'static {
    const ROLE: Role;
}

/// The administrator role.
#[derive(Debug)]
pub struct Administrator;
impl RoleMarker for Administrator {
    const ROLE: Role = Role::Administrator;
}

/// The auditor role.
#[derive(Debug)]
pub struct Auditor;
impl RoleMarker for Auditor {
    const ROLE: Role = Role::Auditor;
}

/// Proof that the signed-in person holds role `R`; only this extractor makes one.
#[derive(Debug)]
pub struct Authorized<R: RoleMarker> {
    pub who: Authenticated,
    role: PhantomData<R>,
}

impl<R: RoleMarker> FromRequestParts<AppState> for Authorized<R> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Authorized<R>, ApiError> {
        let who = Authenticated::from_request_parts(parts, state).await?;
        if !who.has_role(R::ROLE) {
            return Err(ApiError::with_detail(
                ErrorCode::Forbidden,
                format!("hace falta el rol «{}»", R::ROLE.label_es()),
            ));
        }
        // Roles that reach money or health records act only from a session that proved a
        // second factor; the role alone is not enough.
        if R::ROLE.requires_second_factor() && !who.second_factor {
            return Err(ApiError::with_detail(
                ErrorCode::Forbidden,
                "este rol exige iniciar sesión con segundo factor: configúrelo en \
                 /api/v1/me/second-factor y vuelva a iniciar sesión",
            ));
        }
        Ok(Authorized {
            who,
            role: PhantomData,
        })
    }
}
