//! Which metrics database a command uses: SQLite in `--data`, or PostgreSQL with
//! `--database` (`KB_DATABASE_URL`); and `kb migrate-data`, which copies the first into the
//! second.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use kb::metrics::postgres::Postgres;
use kb::metrics::sqlite::{SqliteReader, SqliteStore};
use kb::metrics::{Database, EventStore, MetricsReader, Totals};
use kb::web::visitor::{KEY_FILE, VisitorKey};

use super::MigrateDataArgs;

/// The name the visitor key is shared under in a database.
const VISITOR_KEY: &str = "visitor_key";

/// The recorded events, read-only (a running server may be writing them).
pub fn recorded_events(data: &Path, url: Option<&str>) -> Result<Box<dyn MetricsReader>> {
    let database = Database::new(data, url);
    let reader = database
        .open_reader()
        .with_context(|| format!("cannot read the metrics in {}", database.describe()))?;
    match (reader, &database) {
        (Some(reader), _) => Ok(reader),
        (None, Database::Sqlite(_)) => bail!(
            "no recorded events in {}: `kb serve --data {0}` records them",
            data.display()
        ),
        (None, Database::Postgres(_)) => bail!(
            "no recorded events in {}: `kb serve --database URL` records them",
            database.describe()
        ),
    }
}

/// What a server records into and reads back.
pub struct ServerMetrics {
    pub store: Box<dyn EventStore>,
    pub reader: Arc<dyn MetricsReader>,
    /// The database replicas share, when there is one.
    pub postgres: Option<Postgres>,
}

impl ServerMetrics {
    /// Opens (creating and migrating it if needed) the database a server records into.
    pub fn open(data: &Path, url: Option<&str>) -> Result<ServerMetrics> {
        let database = Database::new(data, url);
        let context = || format!("cannot open the metrics database {}", database.describe());
        Ok(match &database {
            Database::Sqlite(dir) => {
                let store = SqliteStore::open(dir).with_context(context)?;
                let reader = SqliteReader::open(dir)?.with_context(|| {
                    format!(
                        "the metrics database in {} vanished as it was opened",
                        dir.display()
                    )
                })?;
                ServerMetrics {
                    store: Box::new(store),
                    reader: Arc::new(reader),
                    postgres: None,
                }
            }
            Database::Postgres(url) => {
                let pg = Postgres::connect(url).with_context(context)?;
                ServerMetrics {
                    store: Box::new(pg.store()),
                    reader: Arc::new(pg.reader()),
                    postgres: Some(pg),
                }
            }
        })
    }

    /// The key replicas on this database share (made by the first one to ask), when there
    /// is a database to share it through.
    pub fn shared_visitor_key(&self) -> Result<Option<VisitorKey>> {
        let Some(pg) = &self.postgres else {
            return Ok(None);
        };
        let key = pg
            .shared_setting(VISITOR_KEY, &VisitorKey::new_text())
            .context("cannot read the visitor key from the database")?;
        Ok(Some(VisitorKey::from_text(
            &key,
            &format!("in {}", pg.label()),
        )?))
    }
}

/// `kb migrate-data --from sqlite[:DIR] --to postgres://…`: copies a SQLite history (every
/// event; current votes follow from the votes) into an empty PostgreSQL database, checks the
/// counts, and carries the visitor key across so that readers' cookies stay valid.
pub fn migrate(args: &MigrateDataArgs) -> Result<()> {
    let data = match args.from.split_once(':') {
        None if args.from == "sqlite" => PathBuf::from("data"),
        Some(("sqlite", dir)) if !dir.is_empty() => PathBuf::from(dir),
        _ => bail!(
            "--from must be sqlite (the data folder `data`) or sqlite:DIR, not {:?}",
            args.from
        ),
    };
    let source = recorded_events(&data, None)?;
    let started = Instant::now();
    let target = Postgres::connect(&args.to)
        .with_context(|| format!("cannot open {}", kb::metrics::postgres::redact(&args.to)))?;
    let copied = target.copy_from(&*source).with_context(|| {
        format!(
            "cannot copy {} into {}",
            data.join(kb::metrics::sqlite::FILE_NAME).display(),
            target.label()
        )
    })?;
    // What a reader of the target sees, counted again over a connection of its own.
    let stored = target.reader().totals()?;
    if stored != copied {
        bail!(
            "{} holds {stored:?} after the copy, not {copied:?}",
            target.label()
        );
    }
    println!(
        "copied {} into {} in {:.1} s:",
        data.join(kb::metrics::sqlite::FILE_NAME).display(),
        target.label(),
        started.elapsed().as_secs_f64()
    );
    print!("{}", table(&copied));
    let key_file = data.join(KEY_FILE);
    if key_file.exists() {
        let key = std::fs::read_to_string(&key_file)
            .with_context(|| format!("cannot read {}", key_file.display()))?;
        let shared = target.shared_setting(VISITOR_KEY, key.trim())?;
        if shared == key.trim() {
            println!(
                "visitor key: {} is shared through the database",
                key_file.display()
            );
        } else {
            eprintln!(
                "kb: warning: {} already has another visitor key; readers' cookies from the old server will count as new visitors",
                target.label()
            );
        }
    }
    println!("counts checked: source and copy agree");
    Ok(())
}

/// The counts, one per line.
fn table(t: &Totals) -> String {
    [
        ("searches", t.searches),
        ("clicks", t.clicks),
        ("views", t.views),
        ("votes", t.votes),
        ("current votes", t.current_votes),
        ("actions", t.actions),
        ("flags", t.flags),
    ]
    .iter()
    .map(|(name, n)| format!("  {name:<14} {n:>10}\n"))
    .collect()
}
