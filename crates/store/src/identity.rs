//! People, roles, sessions, known devices, sign-in throttling and the SMS outbox. Values come
//! in already parsed by `ceiba-identity`; only hashes of secrets are stored.

use ceiba_identity::{FailureCounter, PhcString, PhoneNumber, Role, ThrottleState, TokenHash};
use sqlx::Row;

use crate::db::Db;
use crate::error::StoreError;

/// Most failed attempts at a confirmation code before it is void.
pub const CONFIRMATION_ATTEMPTS_MAX: i64 = 5;
/// Most outbox messages one dispatch takes.
pub const SMS_BATCH_MAX: u32 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserStatus {
    /// Registered, phone not yet confirmed: cannot sign in.
    Pending,
    Active,
    Disabled,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Pending => "pending",
            UserStatus::Active => "active",
            UserStatus::Disabled => "disabled",
        }
    }

    fn parse(text: &str) -> Result<UserStatus, StoreError> {
        match text {
            "pending" => Ok(UserStatus::Pending),
            "active" => Ok(UserStatus::Active),
            "disabled" => Ok(UserStatus::Disabled),
            other => Err(StoreError::Corrupt(format!("estado de usuario «{other}»"))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    pub id: String,
    /// E.164.
    pub phone: String,
    pub display_name: String,
    pub password_hash: PhcString,
    pub status: UserStatus,
    pub roles: Vec<Role>,
    pub created_at_ms: i64,
    /// The carné de identidad as stored (11 digits), if the person gave it.
    pub national_id: Option<String>,
    /// Argon2id PHC string of the USSD PIN, if set.
    pub pin_hash: Option<PhcString>,
}

#[derive(Debug)]
pub struct NewUser<'a> {
    pub id: &'a str,
    pub phone: &'a PhoneNumber,
    pub display_name: &'a str,
    pub password_hash: &'a PhcString,
    pub status: UserStatus,
    pub roles: &'a [Role],
}

/// What became of a registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registration {
    Created,
    /// Someone already has this phone number; nothing was written.
    PhoneTaken,
}

/// What became of a confirmation code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmation {
    Confirmed,
    WrongCode,
    /// Expired, used up its attempts, or there was none: ask for a new registration.
    Void,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub id: String,
    pub token_hash: TokenHash,
    pub user_id: String,
    pub created_at_s: u64,
    pub last_seen_at_s: u64,
    pub revoked_at_s: Option<u64>,
    /// What the client said it was (`web`, `api`), for the sessions list.
    pub client: String,
    /// When the session proved the second factor, if it did.
    pub second_factor_at_s: Option<u64>,
}

/// A person's TOTP second factor as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecondFactorRow {
    /// Base32.
    pub totp_secret: String,
    pub confirmed: bool,
    pub last_used_step: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsRow {
    pub id: i64,
    pub phone: String,
    pub body: String,
    pub attempts: i64,
}

fn seconds(value: u64) -> i64 {
    i64::try_from(value).expect("Unix seconds fit in i64")
}

fn unsigned(value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("valor negativo: {value}")))
}

fn hash_text(hash: &TokenHash) -> String {
    hash.to_hex()
}

impl Db {
    /// Creates a user and, in the same transaction, what comes with it: the hash of a phone
    /// confirmation code and the SMS that carries the code.
    pub async fn register_user(
        &self,
        user: &NewUser<'_>,
        confirmation: Option<(&str, i64)>,
        sms_body: Option<&str>,
        now_ms: i64,
    ) -> Result<Registration, StoreError> {
        let (_turn, mut transaction) = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO users (id, phone, display_name, password_hash, status, created_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (phone) DO NOTHING",
        )
        .bind(user.id)
        .bind(user.phone.as_e164())
        .bind(user.display_name)
        .bind(user.password_hash.as_str())
        .bind(user.status.as_str())
        .bind(now_ms)
        .execute(&mut *transaction)
        .await?;
        if inserted.rows_affected() == 0 {
            return Ok(Registration::PhoneTaken);
        }
        for role in user.roles {
            sqlx::query("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)")
                .bind(user.id)
                .bind(role.as_str())
                .execute(&mut *transaction)
                .await?;
        }
        if let Some((code_hash, expires_at_ms)) = confirmation {
            sqlx::query(
                "INSERT INTO phone_confirmations (user_id, code_hash, expires_at_ms, attempts) \
                 VALUES ($1, $2, $3, 0)",
            )
            .bind(user.id)
            .bind(code_hash)
            .bind(expires_at_ms)
            .execute(&mut *transaction)
            .await?;
        }
        if let Some(body) = sms_body {
            queue_sms_in(&mut transaction, user.phone.as_e164(), body, now_ms).await?;
        }
        transaction.commit().await?;
        Ok(Registration::Created)
    }

    /// Puts a message in the SMS outbox; the dispatcher sends it at least once.
    pub async fn queue_sms(
        &self,
        phone: &PhoneNumber,
        body: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let (_turn, mut transaction) = self.begin_write().await?;
        queue_sms_in(&mut transaction, phone.as_e164(), body, now_ms).await?;
        transaction.commit().await?;
        Ok(())
    }

    async fn user_where(&self, column: &str, value: &str) -> Result<Option<UserRow>, StoreError> {
        // `column` is one of ours, never input. The roles come in the same statement, one row
        // each (or one row with none).
        let query = format!(
            "SELECT {USER_FIELDS} FROM users u LEFT JOIN user_roles r ON r.user_id = u.id \
             WHERE u.{column} = $1 ORDER BY r.role"
        );
        let rows = sqlx::query(&query)
            .bind(value)
            .fetch_all(self.pool())
            .await?;
        user_from_rows(&rows)
    }

    /// A person by phone number; answered from the identity cache when read lately.
    pub async fn user_by_phone(&self, phone: &PhoneNumber) -> Result<Option<UserRow>, StoreError> {
        let cache = self.identity_cache();
        if let Some(found) = cache.person_by_phone(phone.as_e164()) {
            return Ok(Some(found));
        }
        let generation = cache.generation();
        let found = self.user_where("phone", phone.as_e164()).await?;
        if let Some(person) = &found {
            cache.keep_person_by_phone(phone.as_e164(), generation, person.clone());
        }
        Ok(found)
    }

    pub async fn user_by_id(&self, id: &str) -> Result<Option<UserRow>, StoreError> {
        self.user_where("id", id).await
    }

    pub async fn roles_of(&self, user_id: &str) -> Result<Vec<Role>, StoreError> {
        let rows = sqlx::query("SELECT role FROM user_roles WHERE user_id = $1 ORDER BY role")
            .bind(user_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| {
                let name: String = row.try_get(0)?;
                Role::parse(&name).map_err(|error| StoreError::Corrupt(error.to_string()))
            })
            .collect()
    }

    /// Checks a phone confirmation code's hash; a right one activates the account.
    pub async fn confirm_phone(
        &self,
        user_id: &str,
        code_hash: &str,
        now_ms: i64,
    ) -> Result<Confirmation, StoreError> {
        let (_turn, mut transaction) = self.begin_write().await?;
        let checked = check_code(
            &mut transaction,
            PendingCode::Registration,
            user_id,
            code_hash,
            now_ms,
        )
        .await;
        match checked {
            Ok(Some(_)) => {
                sqlx::query(
                    "UPDATE users SET status = 'active' WHERE id = $1 AND status = 'pending'",
                )
                .bind(user_id)
                .execute(&mut *transaction)
                .await?;
                transaction.commit().await?;
                self.identity_cache().changed();
                Ok(Confirmation::Confirmed)
            }
            Ok(None) => {
                transaction.commit().await?;
                Ok(Confirmation::WrongCode)
            }
            Err(CodeRefusal::Void) => Ok(Confirmation::Void),
            Err(CodeRefusal::Store(error)) => Err(error),
        }
    }

    pub async fn set_user_status(
        &self,
        user_id: &str,
        status: UserStatus,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE users SET status = $1 WHERE id = $2")
            .bind(status.as_str())
            .bind(user_id)
            .execute(self.pool())
            .await?;
        self.identity_cache().changed();
        Ok(())
    }

    /// Replaces a password hash (an upgrade to stronger parameters, or a new password).
    pub async fn set_password_hash(
        &self,
        user_id: &str,
        hash: &PhcString,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(hash.as_str())
            .bind(user_id)
            .execute(self.pool())
            .await?;
        self.identity_cache().changed();
        Ok(())
    }

    /// The sign-in throttle of a typed phone number (default when it never failed).
    pub async fn login_throttle(&self, phone: &PhoneNumber) -> Result<ThrottleState, StoreError> {
        let Some(row) = sqlx::query(
            "SELECT unknown_failures, unknown_window_started_at_s, unknown_locked_until_s, \
             known_failures, known_window_started_at_s, known_locked_until_s \
             FROM login_throttle WHERE phone = $1",
        )
        .bind(phone.as_e164())
        .fetch_optional(self.pool())
        .await?
        else {
            return Ok(ThrottleState::default());
        };
        let counter = |prefix: &str| -> Result<FailureCounter, StoreError> {
            let failures: i64 = row.try_get(format!("{prefix}_failures").as_str())?;
            let window: i64 = row.try_get(format!("{prefix}_window_started_at_s").as_str())?;
            let locked: Option<i64> = row.try_get(format!("{prefix}_locked_until_s").as_str())?;
            Ok(FailureCounter {
                failures: u32::try_from(failures)
                    .map_err(|_| StoreError::Corrupt(format!("fallos: {failures}")))?,
                window_started_at_s: unsigned(window)?,
                locked_until_s: locked.map(unsigned).transpose()?,
            })
        };
        Ok(ThrottleState {
            unknown_devices: counter("unknown")?,
            known_devices: counter("known")?,
        })
    }

    pub async fn save_login_throttle(
        &self,
        phone: &PhoneNumber,
        state: &ThrottleState,
    ) -> Result<(), StoreError> {
        let (unknown, known) = (state.unknown_devices, state.known_devices);
        sqlx::query(
            "INSERT INTO login_throttle (phone, unknown_failures, unknown_window_started_at_s, \
               unknown_locked_until_s, known_failures, known_window_started_at_s, known_locked_until_s) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (phone) DO UPDATE SET unknown_failures = $2, \
               unknown_window_started_at_s = $3, unknown_locked_until_s = $4, known_failures = $5, \
               known_window_started_at_s = $6, known_locked_until_s = $7",
        )
        .bind(phone.as_e164())
        .bind(i64::from(unknown.failures))
        .bind(seconds(unknown.window_started_at_s))
        .bind(unknown.locked_until_s.map(seconds))
        .bind(i64::from(known.failures))
        .bind(seconds(known.window_started_at_s))
        .bind(known.locked_until_s.map(seconds))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn create_session(&self, session: &SessionRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, id, user_id, created_at_s, last_seen_at_s, client, \
               second_factor_at_s) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(hash_text(&session.token_hash))
        .bind(&session.id)
        .bind(&session.user_id)
        .bind(seconds(session.created_at_s))
        .bind(seconds(session.last_seen_at_s))
        .bind(&session.client)
        .bind(session.second_factor_at_s.map(seconds))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    fn session_row(row: &sqlx::any::AnyRow) -> Result<SessionRow, StoreError> {
        let hash: String = row.try_get("token_hash")?;
        let revoked: Option<i64> = row.try_get("revoked_at_s")?;
        let second_factor: Option<i64> = row.try_get("second_factor_at_s")?;
        Ok(SessionRow {
            id: row.try_get("id")?,
            token_hash: TokenHash::parse_hex(&hash)
                .map_err(|error| StoreError::Corrupt(error.to_string()))?,
            user_id: row.try_get("user_id")?,
            created_at_s: unsigned(row.try_get("created_at_s")?)?,
            last_seen_at_s: unsigned(row.try_get("last_seen_at_s")?)?,
            revoked_at_s: revoked.map(unsigned).transpose()?,
            client: row.try_get("client")?,
            second_factor_at_s: second_factor.map(unsigned).transpose()?,
        })
    }

    /// A session by its token's hash, with its person (and their roles) in one statement: what
    /// every authenticated request reads first.
    pub async fn session_with_user(
        &self,
        hash: &TokenHash,
    ) -> Result<Option<(SessionRow, UserRow)>, StoreError> {
        let key = hash_text(hash);
        let cache = self.identity_cache();
        if let Some(found) = cache.session(&key) {
            return Ok(Some(found));
        }
        let generation = cache.generation();
        let query = format!(
            "SELECT s.token_hash, s.id, s.user_id, s.created_at_s, s.last_seen_at_s, \
             s.revoked_at_s, s.client, s.second_factor_at_s, {USER_FIELDS} \
             FROM sessions s JOIN users u ON u.id = s.user_id \
             LEFT JOIN user_roles r ON r.user_id = u.id WHERE s.token_hash = $1 ORDER BY r.role"
        );
        let rows = sqlx::query(&query)
            .bind(&key)
            .fetch_all(self.pool())
            .await?;
        let (Some(first), Some(user)) = (rows.first(), user_from_rows(&rows)?) else {
            return Ok(None);
        };
        let found = (Db::session_row(first)?, user);
        cache.keep_session(&key, generation, found.clone());
        Ok(Some(found))
    }

    pub async fn session_by_token_hash(
        &self,
        hash: &TokenHash,
    ) -> Result<Option<SessionRow>, StoreError> {
        let row = sqlx::query(
            "SELECT token_hash, id, user_id, created_at_s, last_seen_at_s, revoked_at_s, client, \
             second_factor_at_s \
             FROM sessions WHERE token_hash = $1",
        )
        .bind(hash_text(hash))
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(Db::session_row).transpose()
    }

    /// Sessions of a user that are not revoked, newest first.
    pub async fn sessions_of(&self, user_id: &str) -> Result<Vec<SessionRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT token_hash, id, user_id, created_at_s, last_seen_at_s, revoked_at_s, client, \
             second_factor_at_s \
             FROM sessions WHERE user_id = $1 AND revoked_at_s IS NULL \
             ORDER BY created_at_s DESC, id LIMIT 100",
        )
        .bind(user_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(Db::session_row).collect()
    }

    pub async fn touch_session(&self, hash: &TokenHash, now_s: u64) -> Result<(), StoreError> {
        sqlx::query("UPDATE sessions SET last_seen_at_s = $1 WHERE token_hash = $2")
            .bind(seconds(now_s))
            .bind(hash_text(hash))
            .execute(self.pool())
            .await?;
        self.identity_cache().touched(&hash_text(hash), now_s);
        Ok(())
    }

    /// Revokes one of a user's sessions by its public id; false when the user has no such
    /// live session (another user's id included).
    pub async fn revoke_session(
        &self,
        user_id: &str,
        session_id: &str,
        now_s: u64,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE sessions SET revoked_at_s = $1 \
             WHERE user_id = $2 AND id = $3 AND revoked_at_s IS NULL",
        )
        .bind(seconds(now_s))
        .bind(user_id)
        .bind(session_id)
        .execute(self.pool())
        .await?;
        self.identity_cache().changed();
        Ok(result.rows_affected() == 1)
    }

    /// Revokes every live session of a user (password change, account disabled).
    pub async fn revoke_sessions_of(&self, user_id: &str, now_s: u64) -> Result<u64, StoreError> {
        let result = sqlx::query(
            "UPDATE sessions SET revoked_at_s = $1 WHERE user_id = $2 AND revoked_at_s IS NULL",
        )
        .bind(seconds(now_s))
        .bind(user_id)
        .execute(self.pool())
        .await?;
        self.identity_cache().changed();
        Ok(result.rows_affected())
    }

    pub async fn add_known_device(
        &self,
        user_id: &str,
        device: &TokenHash,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO known_devices (user_id, device_hash, created_at_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, device_hash) DO NOTHING",
        )
        .bind(user_id)
        .bind(hash_text(device))
        .bind(now_ms)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn is_known_device(
        &self,
        user_id: &str,
        device: &TokenHash,
    ) -> Result<bool, StoreError> {
        let row =
            sqlx::query("SELECT 1 FROM known_devices WHERE user_id = $1 AND device_hash = $2")
                .bind(user_id)
                .bind(hash_text(device))
                .fetch_optional(self.pool())
                .await?;
        Ok(row.is_some())
    }

    /// Starts enrolling a TOTP secret; refused (false) when a confirmed one exists.
    pub async fn begin_second_factor(
        &self,
        user_id: &str,
        totp_secret: &str,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "INSERT INTO second_factors (user_id, totp_secret) VALUES ($1, $2) \
             ON CONFLICT (user_id) DO UPDATE SET totp_secret = $2, last_used_step = NULL \
             WHERE second_factors.confirmed_at_ms IS NULL",
        )
        .bind(user_id)
        .bind(totp_secret)
        .execute(self.pool())
        .await?;
        Ok(result.rows_affected() == 1)
    }

    pub async fn second_factor(
        &self,
        user_id: &str,
    ) -> Result<Option<SecondFactorRow>, StoreError> {
        let row = sqlx::query(
            "SELECT totp_secret, confirmed_at_ms, last_used_step FROM second_factors \
             WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| {
            let confirmed: Option<i64> = row.try_get("confirmed_at_ms")?;
            let step: Option<i64> = row.try_get("last_used_step")?;
            Ok(SecondFactorRow {
                totp_secret: row.try_get("totp_secret")?,
                confirmed: confirmed.is_some(),
                last_used_step: step.map(unsigned).transpose()?,
            })
        })
        .transpose()
    }

    /// Confirms the pending TOTP secret with the step of its first code, and stores the
    /// recovery codes' hashes, in one transaction.
    pub async fn confirm_second_factor(
        &self,
        user_id: &str,
        step: u64,
        recovery_code_hashes: &[String],
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let (_turn, mut transaction) = self.begin_write().await?;
        let result = sqlx::query(
            "UPDATE second_factors SET confirmed_at_ms = $1, last_used_step = $2 \
             WHERE user_id = $3 AND confirmed_at_ms IS NULL",
        )
        .bind(now_ms)
        .bind(seconds(step))
        .bind(user_id)
        .execute(&mut *transaction)
        .await?;
        if result.rows_affected() != 1 {
            return Ok(false);
        }
        replace_recovery_codes_in(&mut transaction, user_id, recovery_code_hashes).await?;
        transaction.commit().await?;
        Ok(true)
    }

    /// Records an accepted TOTP step; false when that step or a later one was already used
    /// (a replay), decided atomically so two requests cannot both use one code.
    pub async fn use_totp_step(&self, user_id: &str, step: u64) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE second_factors SET last_used_step = $1 WHERE user_id = $2 \
             AND confirmed_at_ms IS NOT NULL AND (last_used_step IS NULL OR last_used_step < $1)",
        )
        .bind(seconds(step))
        .bind(user_id)
        .execute(self.pool())
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Uses up a recovery code; false when it is not one of the user's unused codes.
    pub async fn use_recovery_code(
        &self,
        user_id: &str,
        code_hash: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE recovery_codes SET used_at_ms = $1 \
             WHERE user_id = $2 AND code_hash = $3 AND used_at_ms IS NULL",
        )
        .bind(now_ms)
        .bind(user_id)
        .bind(code_hash)
        .execute(self.pool())
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Replaces the recovery codes of a confirmed second factor with new ones (their hashes),
    /// in one transaction: the old codes stop working. False when the user has no confirmed
    /// second factor (nothing is written).
    pub async fn replace_recovery_codes(
        &self,
        user_id: &str,
        recovery_code_hashes: &[String],
    ) -> Result<bool, StoreError> {
        let (_turn, mut transaction) = self.begin_write().await?;
        let confirmed = sqlx::query(
            "SELECT 1 FROM second_factors WHERE user_id = $1 AND confirmed_at_ms IS NOT NULL",
        )
        .bind(user_id)
        .fetch_optional(&mut *transaction)
        .await?;
        if confirmed.is_none() {
            return Ok(false);
        }
        replace_recovery_codes_in(&mut transaction, user_id, recovery_code_hashes).await?;
        transaction.commit().await?;
        Ok(true)
    }

    /// How many accounts have an id that does not start with `id_prefix` (letters, digits and
    /// `-` only): `ceiba demo seed` makes its accounts with ids `demo-…` and refuses a
    /// database that holds anyone else's.
    pub async fn users_without_id_prefix(&self, id_prefix: &str) -> Result<u64, StoreError> {
        assert!(
            id_prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-'),
            "the prefix holds no LIKE wildcard"
        );
        let count: i64 = sqlx::query("SELECT COUNT(*) AS n FROM users WHERE id NOT LIKE $1")
            .bind(format!("{id_prefix}%"))
            .fetch_one(self.pool())
            .await?
            .try_get("n")?;
        unsigned(count)
    }

    /// Replaces a user's roles; false when there is no such user.
    pub async fn set_roles(&self, user_id: &str, roles: &[Role]) -> Result<bool, StoreError> {
        let (_turn, mut transaction) = self.begin_write().await?;
        let exists = sqlx::query("SELECT 1 FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&mut *transaction)
            .await?
            .is_some();
        if !exists {
            return Ok(false);
        }
        sqlx::query("DELETE FROM user_roles WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *transaction)
            .await?;
        for role in roles {
            sqlx::query("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)")
                .bind(user_id)
                .bind(role.as_str())
                .execute(&mut *transaction)
                .await?;
        }
        transaction.commit().await?;
        self.identity_cache().changed();
        Ok(true)
    }

    /// How many SMS were queued for a number since `since_ms`: the per-number limit on codes.
    pub async fn sms_queued_since(
        &self,
        phone: &PhoneNumber,
        since_ms: i64,
    ) -> Result<u64, StoreError> {
        let row =
            sqlx::query("SELECT COUNT(*) FROM sms_outbox WHERE phone = $1 AND created_at_ms >= $2")
                .bind(phone.as_e164())
                .bind(since_ms)
                .fetch_one(self.pool())
                .await?;
        unsigned(row.try_get(0)?)
    }

    /// Records the carné de identidad; false when another account already has it.
    pub async fn set_national_id(
        &self,
        user_id: &str,
        national_id: &ceiba_identity::NationalId,
    ) -> Result<bool, StoreError> {
        let taken = sqlx::query("SELECT 1 FROM users WHERE national_id = $1 AND id <> $2")
            .bind(national_id.reveal())
            .bind(user_id)
            .fetch_optional(self.pool())
            .await?
            .is_some();
        if taken {
            return Ok(false);
        }
        sqlx::query("UPDATE users SET national_id = $1 WHERE id = $2")
            .bind(national_id.reveal())
            .bind(user_id)
            .execute(self.pool())
            .await?;
        self.identity_cache().changed();
        Ok(true)
    }

    pub async fn set_pin_hash(&self, user_id: &str, hash: &PhcString) -> Result<(), StoreError> {
        sqlx::query("UPDATE users SET pin_hash = $1 WHERE id = $2")
            .bind(hash.as_str())
            .bind(user_id)
            .execute(self.pool())
            .await?;
        self.identity_cache().changed();
        Ok(())
    }

    /// Starts a change of phone number: the code's hash waits here, and the SMS that carries
    /// the code to the new number leaves in the same transaction.
    pub async fn begin_phone_change(
        &self,
        user_id: &str,
        new_phone: &PhoneNumber,
        code_hash: &str,
        expires_at_ms: i64,
        sms_body: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let (_turn, mut transaction) = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO phone_changes (user_id, new_phone, code_hash, expires_at_ms, attempts) \
             VALUES ($1, $2, $3, $4, 0) ON CONFLICT (user_id) DO UPDATE SET new_phone = $2, \
             code_hash = $3, expires_at_ms = $4, attempts = 0",
        )
        .bind(user_id)
        .bind(new_phone.as_e164())
        .bind(code_hash)
        .bind(expires_at_ms)
        .execute(&mut *transaction)
        .await?;
        queue_sms_in(&mut transaction, new_phone.as_e164(), sms_body, now_ms).await?;
        transaction.commit().await?;
        Ok(())
    }

    /// Checks the code of a pending phone change; a right one moves the account to the new
    /// number. `Void` also when the number was taken meanwhile.
    pub async fn confirm_phone_change(
        &self,
        user_id: &str,
        code_hash: &str,
        now_ms: i64,
    ) -> Result<Confirmation, StoreError> {
        let (_turn, mut transaction) = self.begin_write().await?;
        let checked = check_code(
            &mut transaction,
            PendingCode::PhoneChange,
            user_id,
            code_hash,
            now_ms,
        )
        .await;
        let new_phone = match checked {
            Ok(Some(new_phone)) => new_phone,
            Ok(None) => {
                transaction.commit().await?;
                return Ok(Confirmation::WrongCode);
            }
            Err(CodeRefusal::Void) => return Ok(Confirmation::Void),
            Err(CodeRefusal::Store(error)) => return Err(error),
        };
        let taken = sqlx::query("SELECT 1 FROM users WHERE phone = $1")
            .bind(&new_phone)
            .fetch_optional(&mut *transaction)
            .await?
            .is_some();
        if taken {
            transaction.commit().await?;
            return Ok(Confirmation::Void);
        }
        sqlx::query("UPDATE users SET phone = $1 WHERE id = $2")
            .bind(&new_phone)
            .bind(user_id)
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        self.identity_cache().changed();
        Ok(Confirmation::Confirmed)
    }

    /// Outbox messages due at `now_ms`, oldest first.
    pub async fn due_sms(&self, now_ms: i64, limit: u32) -> Result<Vec<SmsRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, phone, body, attempts FROM sms_outbox \
             WHERE sent_at_ms IS NULL AND next_attempt_at_ms <= $1 ORDER BY id LIMIT $2",
        )
        .bind(now_ms)
        .bind(i64::from(limit.min(SMS_BATCH_MAX)))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(SmsRow {
                    id: row.try_get("id")?,
                    phone: row.try_get("phone")?,
                    body: row.try_get("body")?,
                    attempts: row.try_get("attempts")?,
                })
            })
            .collect()
    }

    pub async fn mark_sms_sent(&self, id: i64, now_ms: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE sms_outbox SET sent_at_ms = $1, attempts = attempts + 1 WHERE id = $2")
            .bind(now_ms)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn mark_sms_failed(
        &self,
        id: i64,
        error: &str,
        next_attempt_at_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE sms_outbox SET attempts = attempts + 1, next_attempt_at_ms = $1, \
             last_error = $2 WHERE id = $3",
        )
        .bind(next_attempt_at_ms)
        .bind(error.chars().take(500).collect::<String>())
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }
}

/// The two kinds of code that wait for a person to type them back.
#[derive(Debug, Clone, Copy)]
enum PendingCode {
    /// `phone_confirmations`: confirms the number of a new account.
    Registration,
    /// `phone_changes`: moves an account to `new_phone`.
    PhoneChange,
}

impl PendingCode {
    /// The table, and the column whose value a right code hands back (ours, never input).
    fn table_and_payload(self) -> (&'static str, &'static str) {
        match self {
            PendingCode::Registration => ("phone_confirmations", "''"),
            PendingCode::PhoneChange => ("phone_changes", "new_phone"),
        }
    }
}

#[derive(Debug)]
enum CodeRefusal {
    /// Expired, out of attempts, or none pending.
    Void,
    Store(StoreError),
}

impl From<sqlx::Error> for CodeRefusal {
    fn from(error: sqlx::Error) -> Self {
        CodeRefusal::Store(error.into())
    }
}

/// Checks a typed code's hash against the pending one, inside the caller's transaction.
/// `Ok(Some(payload))`: right, and the pending code is used up. `Ok(None)`: wrong, and the
/// attempt is counted (the caller commits). `Err(Void)`: nothing to check against.
async fn check_code(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    kind: PendingCode,
    user_id: &str,
    code_hash: &str,
    now_ms: i64,
) -> Result<Option<String>, CodeRefusal> {
    let (table, payload) = kind.table_and_payload();
    // Lock the row first (see append_audit), so two guesses cannot both count as the first.
    sqlx::query(&format!(
        "UPDATE {table} SET attempts = attempts WHERE user_id = $1"
    ))
    .bind(user_id)
    .execute(&mut **transaction)
    .await?;
    let Some(row) = sqlx::query(&format!(
        "SELECT code_hash, expires_at_ms, attempts, {payload} AS payload FROM {table} \
         WHERE user_id = $1"
    ))
    .bind(user_id)
    .fetch_optional(&mut **transaction)
    .await?
    else {
        return Err(CodeRefusal::Void);
    };
    let stored: String = row.try_get("code_hash")?;
    let expires_at_ms: i64 = row.try_get("expires_at_ms")?;
    let attempts: i64 = row.try_get("attempts")?;
    if now_ms >= expires_at_ms || attempts >= CONFIRMATION_ATTEMPTS_MAX {
        return Err(CodeRefusal::Void);
    }
    if stored != code_hash {
        sqlx::query(&format!(
            "UPDATE {table} SET attempts = attempts + 1 WHERE user_id = $1"
        ))
        .bind(user_id)
        .execute(&mut **transaction)
        .await?;
        return Ok(None);
    }
    let value: String = row.try_get("payload")?;
    sqlx::query(&format!("DELETE FROM {table} WHERE user_id = $1"))
        .bind(user_id)
        .execute(&mut **transaction)
        .await?;
    Ok(Some(value))
}

/// Puts `hashes` in place of a person's recovery codes, inside the caller's transaction.
async fn replace_recovery_codes_in(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    user_id: &str,
    hashes: &[String],
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut **transaction)
        .await?;
    for hash in hashes {
        sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
            .bind(user_id)
            .bind(hash)
            .execute(&mut **transaction)
            .await?;
    }
    Ok(())
}

/// A person's columns with prefixed names (so they can sit beside a session's), and one role.
const USER_FIELDS: &str = "u.id AS u_id, u.phone AS u_phone, u.display_name AS u_display_name, \
     u.password_hash AS u_password_hash, u.status AS u_status, u.created_at_ms AS u_created_at_ms, \
     u.national_id AS u_national_id, u.pin_hash AS u_pin_hash, r.role AS r_role";
/// A person from rows that select [`USER_FIELDS`]: one per role, or one with
/// no role. `None` for no rows.
fn user_from_rows(rows: &[sqlx::any::AnyRow]) -> Result<Option<UserRow>, StoreError> {
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let mut roles = Vec::new();
    for row in rows {
        if let Some(name) = row.try_get::<Option<String>, _>("r_role")? {
            roles.push(Role::parse(&name).map_err(|error| StoreError::Corrupt(error.to_string()))?);
        }
    }
    let hash: String = row.try_get("u_password_hash")?;
    let pin: Option<String> = row.try_get("u_pin_hash")?;
    Ok(Some(UserRow {
        id: row.try_get("u_id")?,
        phone: row.try_get("u_phone")?,
        display_name: row.try_get("u_display_name")?,
        password_hash: PhcString::parse(&hash)
            .map_err(|error| StoreError::Corrupt(error.to_string()))?,
        status: UserStatus::parse(&row.try_get::<String, _>("u_status")?)?,
        created_at_ms: row.try_get("u_created_at_ms")?,
        national_id: row.try_get("u_national_id")?,
        pin_hash: pin
            .map(|pin| PhcString::parse(&pin))
            .transpose()
            .map_err(|error| StoreError::Corrupt(error.to_string()))?,
        roles,
    }))
}

pub(crate) async fn queue_sms_in(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    phone: &str,
    body: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sms_outbox (phone, body, created_at_ms, attempts, next_attempt_at_ms) \
         VALUES ($1, $2, $3, 0, $3)",
    )
    .bind(phone)
    .bind(body)
    .bind(now_ms)
    .execute(&mut **transaction)
    .await?;
    Ok(())
}
