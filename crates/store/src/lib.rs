//! The only crate in Ceiba that speaks SQL.
//!
//! One body of storage code serves both engines: queries are written once in the SQL that
//! SQLite and PostgreSQL share, with `$N` placeholders (both accept them), and run through
//! sqlx's `Any` driver. Only migrations differ per engine, in `migrations/sqlite` and
//! `migrations/postgres`; the shared test suite proves their behaviour is the same.

mod audit;
mod backup;
mod bank_accounts;
mod bills;
mod checkouts;
mod db;
mod error;
mod identity;
mod identity_cache;
mod lease;
mod ledger;
mod merchant_clients;
mod merchant_payments;
mod merchants;
mod payment_batches;
mod payment_requests;
mod payments;
mod payouts;
mod salud;
mod salud_entry;
mod salud_followup;
mod salud_models;
mod salud_persons;
mod salud_places;
mod salud_views;
pub mod testing;
mod url;
mod ussd;
mod webhooks;
mod wiki;

pub use audit::{
    AUDIT_APPEND_BATCH_MAX, AUDIT_PAGE_MAX, AuditHead, AuditRow, CheckpointRow, ConsistencyProof,
    InclusionProof,
};
pub use backup::{SnapshotSummary, TableRows, install_sqlite_snapshot};
pub use bank_accounts::{
    BankAccountOperationRow, BankAccountRow, LINKED_BANK_ACCOUNTS_MAX, LinkBankAccount,
    NewBankAccount,
};
pub use bills::{
    BILLER_PAYMENTS_PAGE_MAX, BILLS_UPLOAD_MAX, BillRefusal, BillRow, BillStatus, BillerPaymentRow,
    BillerRow, BillerTarget, InsertBills, NewBill, PaidToBiller,
};
pub use checkouts::{
    CHECKOUT_EXPIRY_BATCH_MAX, CHECKOUTS_PAGE_MAX, CancelRefusal, CheckoutFilter, CheckoutRow,
    CheckoutStatus, NewCheckout, PAYMENT_LINKS_MAX, PaymentLinkRow,
};
pub use db::{
    Db, Durability, EMBEDDED_DATABASE_FILE, Engine, MigrationReport, PoolSettings,
    latest_migration_version,
};
pub use error::{ErrorKind, StoreError};
pub use identity::{
    CONFIRMATION_ATTEMPTS_MAX, Confirmation, NewUser, Registration, SMS_BATCH_MAX, SecondFactorRow,
    SessionRow, SmsRow, UserRow, UserStatus,
};
pub use lease::{LeaseGrant, LeaseHolder, LeaseName};
pub use ledger::{
    LEDGER_WRITER_LEASE, LedgerClock, LedgerEngine, LedgerError, Replica, replay_ledger,
    system_clock,
};
pub use merchant_clients::{MERCHANT_CLIENTS_MAX, MerchantClientRow, MerchantTokenRow};
pub use merchant_payments::{
    MERCHANT_DAY_ROWS_MAX, MERCHANT_PAYMENTS_PAGE_MAX, MerchantMovementRow, MerchantPaymentRow,
    MerchantRefundRow, NewQrCode, QrCodeRow, QrKind, QrRefusal, RefundRefusal,
};
pub use merchants::{
    ApplyMerchant, DecideMerchant, MERCHANTS_PAGE_MAX, MERCHANTS_PER_OWNER_MAX, MerchantDecision,
    MerchantRow, MerchantStatus, NewMerchant,
};
pub use payment_batches::{LimitCheck, LimitContext, PersonalLimitsRow};
pub use payment_requests::{PAYMENT_REQUESTS_PAGE_MAX, PaymentRequestRow};
pub use payments::{
    BeginPayment, Finish, LimitWindows, NewOperation, OPERATIONS_PAGE_MAX, OperationRow,
    OperationStatus, SentUsage,
};
pub use payouts::{
    NewPayoutRow, PAYOUT_BATCHES_PAGE_MAX, PAYOUT_ROWS_MAX, PayoutBatchRow, PayoutOutcome,
    PayoutProgress, PayoutRowRow,
};
pub use salud::{Area, AreaRow, GeographyLoad, ImportCounts};
pub use salud_entry::SaludImport;
pub use salud_followup::{CONTACTS_LIST_MAX, ContactRow, LabTestRow};
pub use salud_models::{FORECASTS_READ_MAX, ForecastRow, MODEL_RUNS_LIST_MAX, ModelRunRow};
pub use salud_persons::{DUPLICATE_GROUPS_MAX, MergeRefusal, PersonMerge, PersonRow};
pub use salud_places::{CentreRow, EventRow};
pub use salud_views::{
    ALERTS_READ_MAX, AlertRow, CASES_PAGE_MAX, CaseArea, CaseDimension, CaseFilter, CaseRecord,
    DayCount, GroupDayCount, NationalDay, ProfileCount,
};
pub use url::DatabaseUrl;
pub use ussd::{USSD_PURGE_BATCH_MAX, UssdSessionRow};
pub use webhooks::{
    DueWebhook, WEBHOOK_BATCH_MAX, WEBHOOK_LOG_PAGE_MAX, WebhookAttempt, WebhookDeliveryRow,
    WebhookEvent,
};
pub use wiki::{
    NewRevision, SaveOutcome, WIKI_LINKS_MAX, WIKI_LIST_MAX, WIKI_PAGES_READ_MAX, WikiPageRow,
    WikiRevisionRow,
};
