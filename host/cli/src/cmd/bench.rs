//! `qlp bench`: what isolation costs, and intents under load.

use crate::BenchArgs;

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.iterations >= 10 && args.pipeline_iterations >= 1,
        "too few iterations to take a median"
    );
    anyhow::ensure!(
        args.load_intents >= 1 && args.load_clients >= 1,
        "the load case needs at least one intent and one client"
    );
    let options = qlp_cli::bench::Options {
        validator: args.validator,
        plugin_dir: args.plugin_dir,
        iterations: args.iterations,
        pipeline_iterations: args.pipeline_iterations,
        trust: args.trust,
        only: args.only,
        check_dir: args.check_dir,
        load_intents: args.load_intents,
        load_clients: args.load_clients,
        load_watch: args.load_watch,
        db_sync: args.db_sync,
        load_database: args.load_database,
    };
    let cases = qlp_cli::bench::run(&options).await?;
    print!("{}", qlp_cli::bench::table(&cases));
    let failures: usize = cases.iter().map(qlp_cli::bench::Case::failures).sum();
    anyhow::ensure!(failures == 0, "{failures} load intents did not complete");
    Ok(())
}
