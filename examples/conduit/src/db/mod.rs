//! The data layer: a SQLite pool with the crate's migrations applied and foreign keys on, and
//! one module per resource adding its queries to [`Db`].
//!
//! Every query is a constant SQL text with bound parameters: no user value is ever part of the
//! SQL. Optional filters use `(?n IS NULL OR ...)` instead of building SQL.
//!
//! Timestamps are produced by SQLite (`strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`): UTC, ISO 8601,
//! milliseconds, as the collection checks them.

mod articles;
mod comments;
mod favorites;
mod feed;
mod profiles;
pub mod slug;
mod tags;
mod users;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::{Sqlite, Transaction};

pub use articles::{ArticleFilter, Page};
pub use comments::CommentRef;
pub use tags::MAX_TAGS;
pub use users::UserRecord;

/// The crate's migrations (`examples/conduit/migrations`), embedded at compile time.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// The database: a pool of SQLite connections. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Db {
    pool: SqlitePool,
}

/// A failure of the data layer. Not-found is not an error: lookups return `Option`.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A value that must be unique (case-insensitively) is taken: `"username"` or `"email"`.
    Taken(&'static str),
    /// A request the data rules refuse, such as following yourself: the field and a message
    /// fit for the spec's error shape `{"errors": {field: [message]}}`.
    Invalid {
        /// The field the message is about.
        field: &'static str,
        /// What is wrong, for the client.
        message: &'static str,
    },
    /// The database failed (or a migration did). Internal: never shown to clients.
    Database(sqlx::Error),
    /// Password hashing failed. Internal: never shown to clients.
    Hash,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Taken(field) => write!(f, "{field} has already been taken"),
            Error::Invalid { field, message } => write!(f, "{field} {message}"),
            Error::Database(err) => write!(f, "database error: {err}"),
            Error::Hash => f.write_str("password hashing failed"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Database(err) => Some(err),
            _ => None,
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(err: sqlx::Error) -> Self {
        Error::Database(err)
    }
}

impl From<sqlx::migrate::MigrateError> for Error {
    fn from(err: sqlx::migrate::MigrateError) -> Self {
        Error::Database(err.into())
    }
}

/// Whether `err` is the violation of a UNIQUE constraint on `table.column`.
pub(crate) fn is_unique_violation(err: &sqlx::Error, table_column: &str) -> bool {
    match err {
        sqlx::Error::Database(db) => {
            db.is_unique_violation() && db.message().contains(table_column)
        }
        _ => false,
    }
}

impl Db {
    /// Opens (creating it if missing) the database at a `sqlite:` URL such as
    /// `sqlite://conduit.sqlite?mode=rwc`, and applies the migrations.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        Self::open(SqliteConnectOptions::from_str(url)?).await
    }

    /// Opens (creating it if missing) the database file at `path`, and applies the migrations.
    pub async fn open_file(path: &Path) -> Result<Self, Error> {
        Self::open(SqliteConnectOptions::new().filename(path)).await
    }

    async fn open(options: SqliteConnectOptions) -> Result<Self, Error> {
        let options = options
            .create_if_missing(true)
            .foreign_keys(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Db { pool })
    }

    /// A write transaction: `BEGIN IMMEDIATE` takes the write lock at once (waiting up to the
    /// busy timeout), so a transaction that reads before it writes cannot fail with "database
    /// is locked" because another connection wrote in between, as a deferred `BEGIN` can.
    pub(crate) async fn write(&self) -> Result<Transaction<'static, Sqlite>, Error> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// The connection pool, for queries this module does not offer.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}
