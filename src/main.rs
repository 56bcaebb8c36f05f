use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    mend::telemetry::init();
    mend::cli::run(mend::cli::Cli::parse()).await
}
