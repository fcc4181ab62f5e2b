//! `qlp audit`: the audit trail's hash chain, checked.

use crate::AuditCommand;

pub async fn run(command: AuditCommand) -> anyhow::Result<()> {
    let AuditCommand::Verify { data_dir } = command;
    let db = data_dir.join("qlp.db");
    anyhow::ensure!(db.is_file(), "no database at {}", db.display());
    let store = qlp_host::store::Store::open_read_only(&db).await?;
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
