use std::process::ExitCode;

use flashsale::configuration::Settings;
use flashsale::startup::Application;
use flashsale::telemetry;

#[tokio::main]
async fn main() -> ExitCode {
    let settings = Settings::from_args_and_env();
    telemetry::init("info,sqlx=warn");
    match run(settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One line naming what is wrong: the whole cause chain, no backtrace.
            eprintln!("error: {}", one_line(&error));
            ExitCode::FAILURE
        }
    }
}

async fn run(settings: Settings) -> anyhow::Result<()> {
    let application = Application::build(&settings).await?;
    tracing::info!(
        "flashsale listening on http://{}:{} (default lock mode: {})",
        settings.host,
        application.port(),
        settings.default_lock_mode
    );
    application.run_until(shutdown_signal()).await?;
    Ok(())
}

/// SIGTERM (docker stop, systemd) or Ctrl-C.
async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
    tracing::info!("shutdown signal received");
}

/// The cause chain on one line, skipping a cause whose text its parent
/// already quoted (sqlx and redis repeat the I/O error in their message).
fn one_line(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain().map(ToString::to_string) {
        if !line.contains(&cause) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&cause);
        }
    }
    line
}
