use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    // Before the command line is read: its options fall back on these variables.
    let dotenv = mend::config::load_dotenv();
    mend::telemetry::init();
    if let Some(problem) = dotenv {
        eprintln!("{problem}");
    }
    mend::cli::run(mend::cli::Cli::parse()).await
}
