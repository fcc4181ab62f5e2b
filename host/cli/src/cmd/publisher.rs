//! `qlp publisher`: who may publish to a server's registry.

use crate::PublisherCommand;

pub fn run(command: PublisherCommand) -> anyhow::Result<()> {
    let PublisherCommand::Add {
        name,
        namespaces,
        file,
    } = command;
    let token = qlp_server::publishers::add(&file, &name, &namespaces)?;
    println!("{token}");
    eprintln!(
        "publisher `{name}` added to {}; the token above is shown only once and stored nowhere (only its hash is in the file)",
        file.display()
    );
    Ok(())
}
