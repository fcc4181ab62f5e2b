//! `qlp audit`: the audit trail's hash chain, checked.

use anyhow::Context;
use qlp_server::store::Location;

use crate::AuditCommand;

pub async fn run(command: AuditCommand) -> anyhow::Result<()> {
    let AuditCommand::Verify { data_dir, database } = command;
    let location = Location::chosen(database, &data_dir);
    if let Location::Sqlite(db) = &location {
        anyhow::ensure!(db.is_file(), "no database at {}", db.display());
    }
    let store = qlp_server::store::Store::open_read_only_at(&location)
        .await
        .with_context(|| format!("cannot open the database {}", location.display()))?;
    let verified = store.verify_audit().await?;
    match verified.broken {
        None => {
            println!(
                "audit trail intact: {} entries, head {}",
                verified.entries, verified.head
            );
            Ok(())
        }
        Some(broken) => {
            eprintln!(
                "audit trail broken at entry {}: {} ({} entries before it hold)",
                broken.seq, broken.reason, verified.entries
            );
            std::process::exit(1);
        }
    }
}
