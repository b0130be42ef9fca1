//! `opsdeck`: parse the command line and hand over to the library.

use std::process::ExitCode;

use opsdeck_server::config::{Cli, Command, LogFormat};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse_with_default(std::env::args());
    let result = match cli.command {
        Command::Serve(args) => {
            opsdeck_server::telemetry::init_logging(args.log_format);
            opsdeck_server::serve(*args).await
        }
        Command::Sim(args) => {
            opsdeck_server::telemetry::init_logging(LogFormat::Json);
            opsdeck_server::serve_sim(*args).await
        }
        Command::Capture(args) => opsdeck_server::capture::capture(&args)
            .await
            .map(|report| print!("{}", report.render())),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("opsdeck: {e}");
            ExitCode::FAILURE
        }
    }
}
