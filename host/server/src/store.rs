//! Persistence: intents, their stage runs and their capsules, in SQLite
//! (the default, one server) or PostgreSQL (several replicas sharing one
//! database) through sqlx's `Any` driver: one set of statements, written
//! with `$N` parameters, which both accept. The few statements the two
//! dialects spell differently are chosen by [`Backend`]. Migrations for
//! each dialect are embedded in the binary and run at start-up, so an
//! operator never runs them by hand. Capsule files and artifacts live on
//! disk (see `capsule`); the database holds their digests.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use sqlx::AnyPool;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Row};

use qlp_contract::model::{Intent, IntentKind};

/// The stage output key of a check's uploaded files.
pub const UPLOAD_KEY: &str = "upload";

pub mod audit;
mod guard;
mod identity;
mod llm_usage;
pub mod outbox;
mod rates;
mod retention;

/// The claim's one statement (see [`Store::claim`]), given how the
/// dialect reads a tenant policy's `max_running` as a number, and what it
/// adds to lock the chosen row.
macro_rules! claim_sql {
    ($max_running:literal, $lock:literal) => {
        concat!(
            "UPDATE intents SET status = 'running', lease_owner = $1, lease_expires = $2, updated_at = $3
             WHERE id = (SELECT q.id FROM intents q
                         WHERE (q.status = 'queued' AND NOT EXISTS (
                                  SELECT 1 FROM tenants t
                                  WHERE t.id = q.tenant_id
                                    AND ", $max_running, " IS NOT NULL
                                    AND (SELECT COUNT(*) FROM intents r
                                         WHERE r.tenant_id = q.tenant_id AND r.status = 'running')
                                        >= ", $max_running, "))
                            OR (q.status = 'running' AND (q.lease_expires IS NULL OR q.lease_expires < $4))
                         ORDER BY q.created_at, q.id LIMIT 1", $lock, ")
             RETURNING *"
        )
    };
}

/// The claim in SQLite's words: its one writer needs no row lock.
const CLAIM_SQLITE: &str = claim_sql!("json_extract(t.policy, '$.max_running')", "");

/// The claim in PostgreSQL's: the row is locked as it is chosen, and a row
/// another transaction holds (a cancel, a run ending) is passed over
/// rather than waited for.
const CLAIM_POSTGRES: &str = claim_sql!(
    "CAST(t.policy::jsonb ->> 'max_running' AS BIGINT)",
    " FOR UPDATE OF q SKIP LOCKED"
);

/// A connection of either backend.
pub(crate) type Conn = sqlx::AnyConnection;
/// A transaction of either backend.
pub(crate) type Tx = sqlx::Transaction<'static, sqlx::Any>;

pub use audit::Actor;
pub use guard::FileState;
pub use identity::{CreateError, KeyRecord, KeyRefused};
pub use retention::{Pruned, Retention};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("corrupt record: {0}")]
    Corrupt(#[from] serde_json::Error),
    #[error("{0:#}")]
    Random(anyhow::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why the database could not do what was asked, when the cause is the
/// database's state rather than the request: worth retrying later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unavailable {
    /// Other writers held the database past [`BUSY_TIMEOUT`], or every
    /// pooled connection stayed taken past [`ACQUIRE_TIMEOUT`].
    Busy,
    /// The database cannot be written or read: the disk is full, the file
    /// or its directory became read-only, was moved or removed, or the
    /// device failed. Reads may still work.
    Unwritable,
}

impl Unavailable {
    /// The stable code the API answers with.
    pub fn code(self) -> &'static str {
        match self {
            Self::Busy => "STORE_BUSY",
            Self::Unwritable => "STORE_UNAVAILABLE",
        }
    }

    /// How long a client should wait before trying again, in seconds.
    pub fn retry_after_secs(self) -> u32 {
        match self {
            Self::Busy => 1,
            Self::Unwritable => 5,
        }
    }
}

impl Error {
    /// Whether this error is the database's state (busy, full, read-only,
    /// gone) rather than a bug or a bad record, and which.
    pub fn unavailable(&self) -> Option<Unavailable> {
        match self {
            Self::Db(e) | Self::Migrate(sqlx::migrate::MigrateError::Execute(e)) => {
                sqlx_unavailable(e)
            }
            _ => None,
        }
    }
}

/// SQLite's primary result codes that mean "not now" rather than "wrong".
/// <https://sqlite.org/rescode.html>
const SQLITE_BUSY: u32 = 5;
const SQLITE_LOCKED: u32 = 6;
const SQLITE_READONLY: u32 = 8;
const SQLITE_IOERR: u32 = 10;
const SQLITE_FULL: u32 = 13;
const SQLITE_CANTOPEN: u32 = 14;

fn sqlx_unavailable(e: &sqlx::Error) -> Option<Unavailable> {
    match e {
        sqlx::Error::PoolTimedOut => Some(Unavailable::Busy),
        sqlx::Error::Io(_) => Some(Unavailable::Unwritable),
        sqlx::Error::Database(db) => {
            let code = db.code()?;
            if db
                .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                .is_some()
            {
                return postgres_unavailable(&code);
            }
            // sqlx reports SQLite's extended result code; its low byte is
            // the primary code.
            let code: u32 = code.parse().ok()?;
            match code & 0xff {
                SQLITE_BUSY | SQLITE_LOCKED => Some(Unavailable::Busy),
                SQLITE_READONLY | SQLITE_IOERR | SQLITE_FULL | SQLITE_CANTOPEN => {
                    Some(Unavailable::Unwritable)
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// PostgreSQL's SQLSTATEs that mean "not now" rather than "wrong".
/// <https://www.postgresql.org/docs/current/errcodes-appendix.html>
fn postgres_unavailable(sqlstate: &str) -> Option<Unavailable> {
    match sqlstate {
        // serialization_failure, deadlock_detected, lock_not_available,
        // query_canceled (a statement timeout), too_many_connections.
        "40001" | "40P01" | "55P03" | "57014" | "53300" => Some(Unavailable::Busy),
        // read_only_sql_transaction (a standby, or default_transaction_read_only).
        "25006" => Some(Unavailable::Unwritable),
        // Class 08 connection exception, 53 insufficient resources (disk
        // full, out of memory), 57P0x the server shutting down or starting,
        // 58 system error (I/O).
        s if s.starts_with("08")
            || s.starts_with("53")
            || s.starts_with("57P")
            || s.starts_with("58") =>
        {
            Some(Unavailable::Unwritable)
        }
        _ => None,
    }
}

/// How long a statement waits for other writers before the database is
/// reported busy: long enough to ride out a burst of stage commits, short
/// enough that a client gets its 503 before its own timeout.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a request waits for a pooled connection before the database is
/// reported busy.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections in the pool. SQLite runs one writer at a time; the others
/// serve reads beside it (WAL).
const MAX_CONNECTIONS: u32 = 8;

/// Starts every transaction that may write: SQLite takes the write lock
/// at `BEGIN`, waiting for it within [`BUSY_TIMEOUT`], instead of at the
/// first write after a read, where a concurrent commit makes the upgrade
/// fail at once with `SQLITE_BUSY` whatever the timeout.
const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

/// Where an intent is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IntentStatus {
    Queued,
    Running,
    /// The pipeline ran and the capsule passed its gate.
    Completed,
    /// The pipeline ran and the capsule failed its gate.
    GateFailed,
    /// A stage failed; the error says which and why.
    Failed,
    /// The capsule is built and waits for a person to approve or reject
    /// its delivery.
    AwaitingApproval,
    /// A person rejected the capsule; it was not delivered.
    Rejected,
    /// Cancelled on request; running plugins were interrupted.
    Cancelled,
}

impl IntentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Completed => "completed",
            Self::GateFailed => "gate_failed",
            Self::Failed => "failed",
            Self::AwaitingApproval => "awaiting_approval",
            Self::Rejected => "rejected",
            Self::Cancelled => "cancelled",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "queued" => Self::Queued,
            "running" => Self::Running,
            "completed" => Self::Completed,
            "gate_failed" => Self::GateFailed,
            "awaiting_approval" => Self::AwaitingApproval,
            "rejected" => Self::Rejected,
            "cancelled" => Self::Cancelled,
            _ => Self::Failed,
        }
    }

    /// Whether the intent has reached an end: nothing more will run.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            Self::Completed | Self::GateFailed | Self::Failed | Self::Rejected | Self::Cancelled
        )
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorInfo {
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IntentRecord {
    #[serde(flatten)]
    pub intent: Intent,
    pub status: IntentStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorInfo>,
    /// The approval decision, once a person made it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval: Option<Approval>,
    /// The tenant the intent belongs to.
    pub tenant: String,
    /// Who submitted it ([`crate::auth::Caller::identity`]); `None` for
    /// intents stored before identities.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub submitted_by: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// Which intents a list shows: a tenant's, or only those one identity
/// submitted.
#[derive(Debug, Clone, Copy)]
pub struct Visible<'a> {
    pub tenant: &'a str,
    pub submitted_by: Option<&'a str>,
}

/// A person's decision on a capsule awaiting approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Approval {
    /// `approved` or `rejected`.
    pub decision: String,
    pub by: String,
    pub comment: String,
    pub at: String,
}

/// Why an approval decision was not recorded.
#[derive(Debug)]
pub enum DecideError {
    NotFound,
    /// The intent is not awaiting approval; its status is given.
    NotAwaiting(IntentStatus),
    Store(Error),
}

impl From<Error> for DecideError {
    fn from(e: Error) -> Self {
        Self::Store(e)
    }
}

impl From<sqlx::Error> for DecideError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(e.into())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StageStatus {
    Running,
    Succeeded,
    Failed,
    Skipped,
    /// The process running it died (or lost its lease) before it finished;
    /// the stage ran again when the intent resumed.
    Interrupted,
}

impl StageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
            Self::Interrupted => "interrupted",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "running" => Self::Running,
            "succeeded" => Self::Succeeded,
            "skipped" => Self::Skipped,
            "interrupted" => Self::Interrupted,
            _ => Self::Failed,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StageRecord {
    pub seq: i64,
    /// The repair round the stage belongs to; 0 is the first generation.
    pub iteration: i64,
    pub stage: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plugin: Option<String>,
    pub status: StageStatus,
    pub started_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<serde_json::Value>,
}

/// A capsule's row; JSON columns are kept as parsed values.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CapsuleRecord {
    pub intent_id: String,
    pub tier: String,
    pub quality_score: u8,
    pub gate_passed: bool,
    pub gate_reasons: Vec<String>,
    pub files: serde_json::Value,
    pub analyses: serde_json::Value,
    pub analysis_errors: serde_json::Value,
    pub validations: serde_json::Value,
    pub manifest: serde_json::Value,
    /// The main artifact (the first exporter's).
    pub artifact_name: Option<String>,
    pub artifact_type: Option<String>,
    /// Every artifact, one per exporter in the tier's order: file name,
    /// media type, exporter, size and blake3.
    pub artifacts: serde_json::Value,
    /// Where delivery put the main artifact.
    pub receipt: Option<serde_json::Value>,
    /// Every artifact's delivery receipt, in the artifacts' order.
    pub receipts: serde_json::Value,
    pub created_at: String,
}

/// The one INSERT of a new, queued intent, on a pooled connection or
/// inside a transaction.
async fn insert_intent_row(
    conn: &mut Conn,
    intent: &Intent,
    actor: &Actor,
    now: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO intents (id, description, requirements, constraints, tier, kind, status,
            tenant_id, submitted_by, created_at, updated_at, trace_parent)
         VALUES ($1, $2, $3, $4, $5, $6, 'queued', $7, $8, $9, $10, $11)",
    )
    .bind(&intent.id)
    .bind(&intent.description)
    .bind(serde_json::to_string(&intent.requirements)?)
    .bind(serde_json::to_string(&intent.constraints)?)
    .bind(&intent.tier)
    .bind(intent.kind.as_str())
    .bind(&actor.tenant)
    .bind(&actor.identity)
    .bind(now)
    .bind(now)
    // The submitting request's trace, which the run continues (only while
    // traces are exported).
    .bind(crate::telemetry::current_traceparent())
    .execute(&mut *conn)
    .await?;
    audit::append(conn, actor, "intent.submit", &intent.id, "queued").await
}

/// The one write of a completed stage's output, on a pooled connection or
/// inside a transaction.
async fn insert_output(
    conn: &mut Conn,
    intent_id: &str,
    key: &str,
    output: &serde_json::Value,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO stage_outputs (intent_id, key, output, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (intent_id, key) DO UPDATE SET output = excluded.output",
    )
    .bind(intent_id)
    .bind(key)
    .bind(output.to_string())
    .bind(now())
    .execute(conn)
    .await?;
    Ok(())
}

/// An intent's status, read on `conn` (inside the caller's transaction).
async fn status_of(conn: &mut Conn, id: &str) -> Result<Option<IntentStatus>> {
    let row: Option<(String,)> = sqlx::query_as("SELECT status FROM intents WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|(s,)| IntentStatus::parse(&s)))
}

/// The one UPDATE that ends a stage record.
async fn update_stage(
    conn: &mut Conn,
    stage_id: i64,
    status: StageStatus,
    duration_ms: u64,
    error: Option<ErrorInfo>,
    detail: Option<serde_json::Value>,
) -> Result<()> {
    let (code, message) = error.map(|e| (e.code, e.message)).unzip();
    sqlx::query(
        "UPDATE stage_runs SET status = $1, finished_at = $2, duration_ms = $3, error_code = $4, error_message = $5, detail = $6
         WHERE id = $7",
    )
    .bind(status.as_str())
    .bind(now())
    .bind(duration_ms as i64)
    .bind(code)
    .bind(message)
    .bind(detail.map(|d| d.to_string()))
    .bind(stage_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// RFC 3339 UTC with milliseconds.
pub fn now() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

/// Milliseconds since the Unix epoch: lease expiry and retry times.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// How far a commit is on disk when it returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// The write-ahead log is synced at every commit: a recorded stage or
    /// delivery survives a power loss, not only a crash of the process.
    #[default]
    Full,
    /// Synced at checkpoints only: a crash of the process loses nothing,
    /// a power loss may lose the last commits (SQLite's NORMAL in WAL
    /// mode). Faster where syncs are slow.
    Normal,
}

/// Which database a store keeps its records in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// One file beside the server: the default.
    Sqlite,
    /// A server several replicas share.
    Postgres,
}

/// Where the records are kept: a SQLite file, or a PostgreSQL URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

impl Location {
    /// Reads `--database`: a `postgres://` or `postgresql://` URL, or a
    /// SQLite file as `sqlite://PATH` or a plain path.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            url::Url::parse(text).map_err(|e| format!("not a PostgreSQL URL: {e}"))?;
            return Ok(Self::Postgres(text.to_owned()));
        }
        let path = text.strip_prefix("sqlite://").unwrap_or(text);
        if path.is_empty() || path.contains("://") {
            return Err(format!(
                "`{}` is neither a postgres:// URL nor a SQLite file path",
                mask_password(text)
            ));
        }
        Ok(Self::Sqlite(path.into()))
    }

    /// `--database` if given, else the SQLite file `qlp.db` in the data
    /// directory: where `qlp serve` and the commands beside it look.
    pub fn chosen(database: Option<Location>, data_dir: &Path) -> Self {
        database.unwrap_or_else(|| Self::Sqlite(data_dir.join("qlp.db")))
    }

    /// The location for logs: a URL's password masked.
    pub fn display(&self) -> String {
        match self {
            Self::Sqlite(path) => path.display().to_string(),
            Self::Postgres(url) => mask_password(url),
        }
    }
}

/// `url` with its password, if any, shown as `***`.
pub fn mask_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(_) => url.to_owned(),
        // Unparsable: nothing in it can be told apart from a password.
        Err(_) => "(unparsable URL)".to_owned(),
    }
}

/// The advisory lock every PostgreSQL write transaction takes first
/// (`pg_advisory_xact_lock`): what SQLite's `BEGIN IMMEDIATE` gives, one
/// writer among the transactions that read and then write (an audit
/// entry's predecessor, an idempotency key, an intent's status), across
/// every replica. Statements that only write go without it.
const PG_WRITE_LOCK: i64 = 0x716c_705f_7772; // "qlp_wr"

#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// Watches the database file of a server's SQLite store (not of a
    /// read-only look at one, nor of PostgreSQL).
    guard: Option<Arc<guard::FileGuard>>,
    /// Bumped after every committed change of an intent's status or
    /// stages through this store: event streams wait on it instead of
    /// polling.
    changes: Arc<tokio::sync::watch::Sender<u64>>,
}

/// Registers the SQLite and PostgreSQL drivers with `Any`, once.
fn install_drivers() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(sqlx::any::install_default_drivers);
}

/// The pragmas every SQLite connection starts with.
fn sqlite_pragmas(durability: Durability) -> sqlx::AssertSqlSafe<String> {
    let synchronous = match durability {
        Durability::Full => "FULL",
        Durability::Normal => "NORMAL",
    };
    sqlx::AssertSqlSafe(format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = {synchronous}; PRAGMA foreign_keys = ON; \
         PRAGMA busy_timeout = {}",
        BUSY_TIMEOUT.as_millis()
    ))
}

/// The settings every PostgreSQL connection starts with: a statement
/// waiting on a lock past [`BUSY_TIMEOUT`] is reported busy, as SQLite's
/// are; every transaction read-only when `read_only`.
fn postgres_settings(read_only: bool) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(format!(
        "SET lock_timeout = '{}ms'; SET statement_timeout = '60s'; SET default_transaction_read_only = {}",
        BUSY_TIMEOUT.as_millis(),
        if read_only { "on" } else { "off" }
    ))
}

impl Store {
    /// Opens (creating if needed) the database file and applies migrations,
    /// syncing every commit ([`Durability::Full`]).
    pub async fn open(path: &Path) -> Result<Self> {
        Self::open_with(path, Durability::Full).await
    }

    /// Opens the store at `location` and applies its migrations.
    pub async fn connect(location: &Location, durability: Durability) -> Result<Self> {
        match location {
            Location::Sqlite(path) => Self::open_with(path, durability).await,
            Location::Postgres(url) => Self::open_postgres(url).await,
        }
    }

    /// Opens the database file with the given durability.
    pub async fn open_with(path: &Path, durability: Durability) -> Result<Self> {
        install_drivers();
        let options = SqliteConnectOptions::from_str("sqlite://")?
            .filename(path)
            .create_if_missing(true);
        // The file is made once, here; a pooled connection never makes an
        // empty database where the server's was removed.
        let first = <sqlx::SqliteConnection as sqlx::Connection>::connect_with(&options).await?;
        sqlx::Connection::close(first).await?;
        let url = options.create_if_missing(false).to_url_lossy();
        let options = AnyConnectOptions::from_url(&url)?;
        let guard = Arc::new(guard::FileGuard::new(path).map_err(sqlx::Error::Io)?);
        let on_connect = guard.clone();
        let on_acquire = guard.clone();
        let pool = AnyPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .after_connect(move |conn, _| {
                let guard = on_connect.clone();
                Box::pin(async move {
                    sqlx::raw_sql(sqlite_pragmas(durability))
                        .execute(&mut *conn)
                        .await?;
                    guard.on_connect(conn).await
                })
            })
            // When a write fails because the disk is full (or the device
            // failed), SQLite rolls the transaction back by itself; sqlx
            // then fails its own rollback and the connection keeps
            // believing it is inside a transaction, refusing every later
            // BEGIN. Such a connection is closed instead of reused, so
            // the server recovers once the disk has room again.
            .before_acquire(move |conn, _| {
                let guard = on_acquire.clone();
                Box::pin(async move {
                    if sqlx::Connection::is_in_transaction(conn) {
                        return Ok(false);
                    }
                    guard.on_acquire(conn).await?;
                    Ok(true)
                })
            })
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(Self {
            pool,
            backend: Backend::Sqlite,
            guard: Some(guard),
            changes: Arc::default(),
        })
    }

    /// Connects to a PostgreSQL database (which must exist) and applies
    /// its migrations; several replicas may do so at once (the migrator
    /// holds PostgreSQL's advisory lock while it runs).
    pub async fn open_postgres(url: &str) -> Result<Self> {
        let store = Self::postgres(url, false).await?;
        sqlx::migrate!("./migrations/postgres")
            .run(&store.pool)
            .await?;
        Ok(store)
    }

    /// A pool on a PostgreSQL database, without migrating it; every
    /// transaction read-only when `read_only`.
    async fn postgres(url: &str, read_only: bool) -> Result<Self> {
        install_drivers();
        let options = AnyConnectOptions::from_str(url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(MAX_CONNECTIONS * 2)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    sqlx::raw_sql(postgres_settings(read_only))
                        .execute(&mut *conn)
                        .await?;
                    Ok(())
                })
            })
            .before_acquire(|conn, _| {
                Box::pin(async move { Ok(!sqlx::Connection::is_in_transaction(conn)) })
            })
            .connect_with(options)
            .await?;
        Ok(Self {
            pool,
            backend: Backend::Postgres,
            guard: None,
            changes: Arc::default(),
        })
    }

    /// Opens an existing store for reading only, without migrating it
    /// (see [`Store::open_read_only`]).
    pub async fn open_read_only_at(location: &Location) -> Result<Self> {
        match location {
            Location::Sqlite(path) => Self::open_read_only(path).await,
            Location::Postgres(url) => Self::postgres(url, true).await,
        }
    }

    /// Which database this store keeps its records in.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A receiver woken after each change of an intent's status or stages
    /// committed through this store (not another replica's).
    pub fn changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// Wakes whoever waits on [`Store::changes`].
    fn changed(&self) {
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// What the server's database file is now: writable, read-only, moved
    /// away or replaced. `None` for a read-only look at a database, and
    /// for PostgreSQL.
    pub fn file_state(&self) -> Option<FileState> {
        self.guard.as_ref().map(|g| g.state())
    }

    /// Opens an existing database for reading only, without migrating it:
    /// for checks that must not change what they check (`qlp audit
    /// verify`).
    pub async fn open_read_only(path: &Path) -> Result<Self> {
        install_drivers();
        let url = SqliteConnectOptions::from_str("sqlite://")?
            .filename(path)
            .read_only(true)
            .to_url_lossy();
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(AnyConnectOptions::from_url(&url)?)
            .await?;
        Ok(Self {
            pool,
            backend: Backend::Sqlite,
            guard: None,
            changes: Arc::default(),
        })
    }

    /// The connection pool, for modules that keep their own tables here.
    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// A transaction that holds the write lock from its start: every
    /// transaction that reads and then writes begins this way.
    pub(crate) async fn write(&self) -> Result<Tx> {
        match self.backend {
            Backend::Sqlite => Ok(self.pool.begin_with(BEGIN_WRITE).await?),
            Backend::Postgres => {
                let mut tx = self.pool.begin().await?;
                sqlx::query("SELECT 1 FROM (SELECT pg_advisory_xact_lock($1)) AS locked")
                    .bind(PG_WRITE_LOCK)
                    .execute(&mut *tx)
                    .await?;
                Ok(tx)
            }
        }
    }

    /// Stores a new intent of `actor`, with its audit entry.
    pub async fn insert_intent(&self, intent: &Intent, actor: &Actor) -> Result<()> {
        self.insert(intent, actor, None, None).await.map(|_| ())
    }

    /// The intent `actor` had accepted under an idempotency key, if any.
    /// Keys are the submitter's own: another's key of the same name is
    /// another key.
    pub async fn idempotent_intent(&self, actor: &Actor, key: &str) -> Result<Option<String>> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT intent_id FROM idempotency_keys WHERE tenant_id = $1 AND owner = $2 AND key = $3",
        )
        .bind(&actor.tenant)
        .bind(&actor.identity)
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(id,)| id))
    }

    /// Inserts `intent` under an idempotency key, atomically: when the key
    /// is already taken, nothing is inserted and the earlier intent's id and
    /// body digest are returned instead.
    pub async fn insert_intent_idempotent(
        &self,
        intent: &Intent,
        actor: &Actor,
        key: &str,
        body_digest: &str,
    ) -> Result<Option<(String, String)>> {
        self.insert(intent, actor, Some((key, body_digest)), None)
            .await
    }

    /// Inserts a check (an intent of kind `check`) with the uploaded files
    /// it checks, kept as its [`UPLOAD_KEY`] stage output, in one
    /// transaction; under an idempotency key (and its body digest) as
    /// [`Store::insert_intent_idempotent`] does.
    pub async fn insert_check(
        &self,
        intent: &Intent,
        actor: &Actor,
        upload: &serde_json::Value,
        key: Option<(&str, &str)>,
    ) -> Result<Option<(String, String)>> {
        self.insert(intent, actor, key, Some(upload)).await
    }

    async fn insert(
        &self,
        intent: &Intent,
        actor: &Actor,
        key: Option<(&str, &str)>,
        upload: Option<&serde_json::Value>,
    ) -> Result<Option<(String, String)>> {
        let mut tx = self.write().await?;
        if let Some((key, _)) = key {
            let existing: Option<(String, String)> = sqlx::query_as(
                "SELECT intent_id, body_digest FROM idempotency_keys
                 WHERE tenant_id = $1 AND owner = $2 AND key = $3",
            )
            .bind(&actor.tenant)
            .bind(&actor.identity)
            .bind(key)
            .fetch_optional(&mut *tx)
            .await?;
            if existing.is_some() {
                return Ok(existing);
            }
        }
        let now = now();
        insert_intent_row(&mut tx, intent, actor, &now).await?;
        if let Some(upload) = upload {
            insert_output(&mut tx, &intent.id, UPLOAD_KEY, upload).await?;
        }
        if let Some((key, body_digest)) = key {
            sqlx::query(
                "INSERT INTO idempotency_keys (tenant_id, owner, key, body_digest, intent_id, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&actor.tenant)
            .bind(&actor.identity)
            .bind(key)
            .bind(body_digest)
            .bind(&intent.id)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(None)
    }

    fn intent_from_row(row: &sqlx::any::AnyRow) -> Result<IntentRecord> {
        let code: Option<String> = row.try_get("error_code")?;
        let message: Option<String> = row.try_get("error_message")?;
        let approval: Option<String> = row.try_get("approval")?;
        Ok(IntentRecord {
            intent: Intent {
                id: row.try_get("id")?,
                description: row.try_get("description")?,
                requirements: serde_json::from_str(row.try_get("requirements")?)?,
                constraints: serde_json::from_str(row.try_get("constraints")?)?,
                tier: row.try_get("tier")?,
                kind: IntentKind::parse(row.try_get("kind")?),
            },
            status: IntentStatus::parse(row.try_get("status")?),
            error: code.map(|code| ErrorInfo {
                code,
                message: message.unwrap_or_default(),
            }),
            approval: approval.map(|a| serde_json::from_str(&a)).transpose()?,
            tenant: row.try_get("tenant_id")?,
            submitted_by: row.try_get("submitted_by")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }

    /// The `traceparent` of the request that submitted intent `id`, when
    /// traces were exported then.
    pub async fn intent_trace_parent(&self, id: &str) -> Result<Option<String>> {
        let row: Option<(Option<String>,)> =
            sqlx::query_as("SELECT trace_parent FROM intents WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.and_then(|(t,)| t))
    }

    pub async fn get_intent(&self, id: &str) -> Result<Option<IntentRecord>> {
        let row = sqlx::query("SELECT * FROM intents WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(Self::intent_from_row).transpose()
    }

    /// The most recent intents `visible` shows first.
    pub async fn list_intents(
        &self,
        visible: Visible<'_>,
        limit: u32,
    ) -> Result<Vec<IntentRecord>> {
        let rows = sqlx::query(
            "SELECT * FROM intents WHERE tenant_id = $1 AND ($2 IS NULL OR submitted_by = $3)
             ORDER BY created_at DESC, id LIMIT $4",
        )
        .bind(visible.tenant)
        .bind(visible.submitted_by)
        .bind(visible.submitted_by)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(Self::intent_from_row).collect()
    }

    /// Answers when the database does.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// The queue as metrics show it: intents waiting, how long the oldest
    /// has waited (seconds), and intents running.
    pub async fn queue_gauges(&self) -> Result<(i64, f64, i64)> {
        let (queued, oldest, running): (i64, Option<String>, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM intents WHERE status = 'queued'),
                    (SELECT MIN(created_at) FROM intents WHERE status = 'queued'),
                    (SELECT COUNT(*) FROM intents WHERE status = 'running')",
        )
        .fetch_one(&self.pool)
        .await?;
        let age = oldest
            .and_then(|t| humantime::parse_rfc3339(&t).ok())
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .map_or(0.0, |d| d.as_secs_f64());
        Ok((queued, age, running))
    }

    /// Intents waiting for a worker.
    pub async fn queued_count(&self) -> Result<i64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM intents WHERE status = 'queued'")
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }

    /// Takes the oldest intent that is queued, or running under a lease
    /// that expired (or under none: accepted before leases existed), for
    /// `owner` until `lease` from now. One statement, so two workers never
    /// take the same intent. A queued intent of a tenant already running
    /// its policy's `max_running` waits; the next tenant's goes ahead.
    pub async fn claim(&self, owner: &str, lease: Duration) -> Result<Option<Intent>> {
        let now_ms = now_ms();
        let mut tx = self.write().await?;
        let sql = match self.backend {
            Backend::Sqlite => CLAIM_SQLITE,
            Backend::Postgres => CLAIM_POSTGRES,
        };
        let row = sqlx::query(sql)
            .bind(owner)
            .bind(now_ms + lease.as_millis() as i64)
            .bind(now())
            .bind(now_ms)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let record = Self::intent_from_row(&row)?;
        // Stages a dead worker left running did not finish.
        sqlx::query(
            "UPDATE stage_runs SET status = 'interrupted', finished_at = $1 WHERE intent_id = $2 AND status = 'running'",
        )
        .bind(now())
        .bind(&record.intent.id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.changed();
        Ok(Some(record.intent))
    }

    /// Renews `owner`'s lease on an intent. Returns `Some(cancel_requested)`
    /// while the lease is still `owner`'s, `None` once it was lost.
    pub async fn heartbeat(&self, id: &str, owner: &str, lease: Duration) -> Result<Option<bool>> {
        let row: Option<(i64,)> = sqlx::query_as(
            "UPDATE intents SET lease_expires = $1 WHERE id = $2 AND lease_owner = $3 AND status = 'running'
             RETURNING cancel_requested",
        )
        .bind(now_ms() + lease.as_millis() as i64)
        .bind(id)
        .bind(owner)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(c,)| c != 0))
    }

    /// Makes every intent `node` (any of its workers, `node/w<i>`, or the
    /// node itself, as leases were named before) held claimable at once: a
    /// node that restarts knows its earlier leases died with it.
    pub async fn release_leases(&self, node: &str) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE intents SET status = 'queued', lease_owner = NULL, lease_expires = NULL, updated_at = $1
             WHERE status = 'running' AND (lease_owner = $2 OR substr(lease_owner, 1, length($3) + 1) = $4 || '/')",
        )
        .bind(now())
        .bind(node)
        .bind(node)
        .bind(node)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Gives an intent `owner` holds back to the queue, to be claimed and
    /// resumed again (after a storage fault interrupted its run).
    pub async fn release(&self, id: &str, owner: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE intents SET status = 'queued', lease_owner = NULL, lease_expires = NULL, updated_at = $1
             WHERE id = $2 AND status = 'running' AND lease_owner = $3",
        )
        .bind(now())
        .bind(id)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        self.changed();
        Ok(done.rows_affected() == 1)
    }

    /// Records the end of a run by `owner`: nothing is written when the
    /// lease passed to someone else or the intent was cancelled meanwhile.
    ///
    /// `receipts`, when the run delivered, are where each artifact went:
    /// recorded on the capsule in the same transaction as the intent's end,
    /// so the two are never seen apart.
    pub async fn finish_run(
        &self,
        id: &str,
        owner: &str,
        (status, error): (IntentStatus, Option<ErrorInfo>),
        receipts: &[serde_json::Value],
    ) -> Result<bool> {
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "UPDATE intents SET status = $1, error_code = $2, error_message = $3, lease_owner = NULL,
                lease_expires = NULL, updated_at = $4
             WHERE id = $5 AND lease_owner = $6 AND status = 'running'",
        )
        .bind(status.as_str())
        .bind(error.as_ref().map(|e| &e.code))
        .bind(error.as_ref().map(|e| &e.message))
        .bind(now())
        .bind(id)
        .bind(owner)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        if !receipts.is_empty() {
            sqlx::query("UPDATE capsules SET receipt = $1, receipts = $2 WHERE intent_id = $3")
                .bind(receipts.first().map(|r| r.to_string()))
                .bind(serde_json::Value::from(receipts.to_vec()).to_string())
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        outbox::enqueue(&mut tx, id, status, error.as_ref()).await?;
        tx.commit().await?;
        self.changed();
        Ok(true)
    }

    /// Asks for an intent to stop. A queued or waiting intent is cancelled
    /// at once; a running one is flagged for its worker, which interrupts
    /// its plugin. Returns the status after the request, or `None` when
    /// there is no such intent.
    pub async fn request_cancel(&self, id: &str, actor: &Actor) -> Result<Option<IntentStatus>> {
        let mut tx = self.write().await?;
        let Some(status) = status_of(&mut tx, id).await? else {
            return Ok(None);
        };
        let after = match status {
            IntentStatus::Queued | IntentStatus::AwaitingApproval => {
                sqlx::query(
                    "UPDATE intents SET status = 'cancelled', cancel_requested = 1, error_code = 'CANCELLED',
                        error_message = 'cancelled on request', updated_at = $1 WHERE id = $2",
                )
                .bind(now())
                .bind(id)
                .execute(&mut *tx)
                .await?;
                let error = ErrorInfo {
                    code: "CANCELLED".into(),
                    message: "cancelled on request".into(),
                };
                outbox::enqueue(&mut tx, id, IntentStatus::Cancelled, Some(&error)).await?;
                IntentStatus::Cancelled
            }
            IntentStatus::Running => {
                sqlx::query(
                    "UPDATE intents SET cancel_requested = 1, updated_at = $1 WHERE id = $2",
                )
                .bind(now())
                .bind(id)
                .execute(&mut *tx)
                .await?;
                IntentStatus::Running
            }
            finished => finished,
        };
        audit::append(&mut tx, actor, "intent.cancel", id, after.as_str()).await?;
        tx.commit().await?;
        self.changed();
        Ok(Some(after))
    }

    /// Records a person's decision on an intent awaiting approval: an
    /// approved intent is queued again to deliver, a rejected one ends.
    pub async fn decide(
        &self,
        id: &str,
        approval: &Approval,
        actor: &Actor,
    ) -> Result<(), DecideError> {
        let mut tx = self.write().await?;
        let Some(status) = status_of(&mut tx, id).await? else {
            return Err(DecideError::NotFound);
        };
        if status != IntentStatus::AwaitingApproval {
            return Err(DecideError::NotAwaiting(status));
        }
        let next = if approval.decision == "approved" {
            IntentStatus::Queued
        } else {
            IntentStatus::Rejected
        };
        sqlx::query("UPDATE intents SET status = $1, approval = $2, updated_at = $3 WHERE id = $4")
            .bind(next.as_str())
            .bind(serde_json::to_string(approval).map_err(Error::from)?)
            .bind(now())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if next == IntentStatus::Rejected {
            outbox::enqueue(&mut tx, id, next, None).await?;
        }
        let action = if next == IntentStatus::Rejected {
            "intent.reject"
        } else {
            "intent.approve"
        };
        audit::append(&mut tx, actor, action, id, next.as_str()).await?;
        tx.commit().await?;
        self.changed();
        Ok(())
    }

    /// The outputs of the stages an intent completed, by key.
    pub async fn outputs(
        &self,
        intent_id: &str,
    ) -> Result<std::collections::HashMap<String, serde_json::Value>> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT key, output FROM stage_outputs WHERE intent_id = $1")
                .bind(intent_id)
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(|(k, v)| Ok((k, serde_json::from_str(&v)?)))
            .collect()
    }

    /// Keeps a completed stage's output.
    pub async fn put_output(
        &self,
        intent_id: &str,
        key: &str,
        output: &serde_json::Value,
    ) -> Result<()> {
        let mut conn = self.pool.acquire().await?;
        insert_output(&mut conn, intent_id, key, output).await
    }

    /// The highest stage sequence number an intent has used.
    pub async fn last_seq(&self, intent_id: &str) -> Result<i64> {
        let (n,): (Option<i64>,) =
            sqlx::query_as("SELECT MAX(seq) FROM stage_runs WHERE intent_id = $1")
                .bind(intent_id)
                .fetch_one(&self.pool)
                .await?;
        Ok(n.unwrap_or(0))
    }

    /// Records the start of a stage and returns its row id.
    pub async fn start_stage(
        &self,
        intent_id: &str,
        seq: i64,
        iteration: u32,
        stage: &str,
        plugin: Option<&str>,
    ) -> Result<i64> {
        let row = sqlx::query(
            "INSERT INTO stage_runs (intent_id, seq, iteration, stage, plugin, status, started_at) VALUES ($1, $2, $3, $4, $5, 'running', $6)
             RETURNING id",
        )
        .bind(intent_id)
        .bind(seq)
        .bind(iteration as i64)
        .bind(stage)
        .bind(plugin)
        .bind(now())
        .fetch_one(&self.pool)
        .await?;
        self.changed();
        Ok(row.try_get(0)?)
    }

    pub async fn finish_stage(
        &self,
        stage_id: i64,
        status: StageStatus,
        duration_ms: u64,
        error: Option<ErrorInfo>,
        detail: Option<serde_json::Value>,
    ) -> Result<()> {
        let mut conn = self.pool.acquire().await?;
        update_stage(&mut conn, stage_id, status, duration_ms, error, detail).await?;
        self.changed();
        Ok(())
    }

    /// Records a stage's end and keeps its output, in one transaction, so a
    /// resumed intent either has both or runs the stage again.
    pub async fn complete_stage(
        &self,
        stage_id: i64,
        (status, duration_ms, error, detail): (
            StageStatus,
            u64,
            Option<ErrorInfo>,
            serde_json::Value,
        ),
        (intent_id, key, output): (&str, &str, &serde_json::Value),
    ) -> Result<()> {
        let mut tx = self.write().await?;
        update_stage(&mut tx, stage_id, status, duration_ms, error, Some(detail)).await?;
        insert_output(&mut tx, intent_id, key, output).await?;
        tx.commit().await?;
        self.changed();
        Ok(())
    }

    pub async fn stages(&self, intent_id: &str) -> Result<Vec<StageRecord>> {
        let rows = sqlx::query("SELECT * FROM stage_runs WHERE intent_id = $1 ORDER BY seq, id")
            .bind(intent_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let code: Option<String> = row.try_get("error_code")?;
                let message: Option<String> = row.try_get("error_message")?;
                let detail: Option<String> = row.try_get("detail")?;
                Ok(StageRecord {
                    seq: row.try_get("seq")?,
                    iteration: row.try_get("iteration")?,
                    stage: row.try_get("stage")?,
                    plugin: row.try_get("plugin")?,
                    status: StageStatus::parse(row.try_get("status")?),
                    started_at: row.try_get("started_at")?,
                    finished_at: row.try_get("finished_at")?,
                    duration_ms: row.try_get("duration_ms")?,
                    error: code.map(|code| ErrorInfo {
                        code,
                        message: message.unwrap_or_default(),
                    }),
                    detail: detail.map(|d| serde_json::from_str(&d)).transpose()?,
                })
            })
            .collect()
    }

    pub async fn insert_capsule(&self, c: &CapsuleRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO capsules (intent_id, tier, quality_score, gate_passed, gate_reasons, files, analyses,
                analysis_errors, validations, manifest, artifact_name, artifact_type, artifacts, receipt,
                receipts, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
             ON CONFLICT (intent_id) DO UPDATE SET tier = excluded.tier, quality_score = excluded.quality_score,
                gate_passed = excluded.gate_passed, gate_reasons = excluded.gate_reasons, files = excluded.files,
                analyses = excluded.analyses, analysis_errors = excluded.analysis_errors,
                validations = excluded.validations, manifest = excluded.manifest,
                artifact_name = excluded.artifact_name, artifact_type = excluded.artifact_type,
                artifacts = excluded.artifacts, receipt = excluded.receipt, receipts = excluded.receipts,
                created_at = excluded.created_at",
        )
        .bind(&c.intent_id)
        .bind(&c.tier)
        .bind(c.quality_score as i64)
        .bind(i64::from(c.gate_passed))
        .bind(serde_json::to_string(&c.gate_reasons)?)
        .bind(c.files.to_string())
        .bind(c.analyses.to_string())
        .bind(c.analysis_errors.to_string())
        .bind(c.validations.to_string())
        .bind(c.manifest.to_string())
        .bind(&c.artifact_name)
        .bind(&c.artifact_type)
        .bind(c.artifacts.to_string())
        .bind(c.receipt.as_ref().map(|r| r.to_string()))
        .bind(c.receipts.to_string())
        .bind(&c.created_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn get_capsule(&self, intent_id: &str) -> Result<Option<CapsuleRecord>> {
        let Some(row) = sqlx::query("SELECT * FROM capsules WHERE intent_id = $1")
            .bind(intent_id)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let json = |col: &str| -> Result<serde_json::Value> {
            Ok(serde_json::from_str(row.try_get(col)?)?)
        };
        let receipt: Option<String> = row.try_get("receipt")?;
        let artifact_name: Option<String> = row.try_get("artifact_name")?;
        let artifact_type: Option<String> = row.try_get("artifact_type")?;
        let mut artifacts = json("artifacts")?;
        let mut receipts = json("receipts")?;
        // A capsule stored before tiers had several exporters lists its
        // one artifact and receipt only in the older columns.
        if artifacts.as_array().is_some_and(Vec::is_empty)
            && let (Some(name), Some(media_type)) = (&artifact_name, &artifact_type)
        {
            artifacts = serde_json::json!([{ "file_name": name, "media_type": media_type }]);
            if let Some(r) = &receipt {
                receipts = serde_json::json!([serde_json::from_str::<serde_json::Value>(r)?]);
            }
        }
        Ok(Some(CapsuleRecord {
            intent_id: row.try_get("intent_id")?,
            tier: row.try_get("tier")?,
            quality_score: row.try_get::<i64, _>("quality_score")?.clamp(0, 100) as u8,
            gate_passed: row.try_get::<i64, _>("gate_passed")? != 0,
            gate_reasons: serde_json::from_str(row.try_get("gate_reasons")?)?,
            files: json("files")?,
            analyses: json("analyses")?,
            analysis_errors: json("analysis_errors")?,
            validations: json("validations")?,
            manifest: json("manifest")?,
            artifact_name,
            artifact_type,
            artifacts,
            receipt: receipt.map(|r| serde_json::from_str(&r)).transpose()?,
            receipts,
            created_at: row.try_get("created_at")?,
        }))
    }
}

#[cfg(test)]
mod tests;
