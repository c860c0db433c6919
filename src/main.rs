//! Thin entry point: make sure OpenMP will not oversubscribe the cores, parse
//! the command line, run, exit with the code the CLI decided.

use std::os::unix::process::CommandExt;

fn main() -> std::process::ExitCode {
    // libgomp reads OMP_THREAD_LIMIT when the library loads, before main; set
    // too late it has no effect and OCR runs 4–6× slower on 2 cores. So the
    // process re-executes itself once with the variable set.
    if std::env::var_os("OMP_THREAD_LIMIT").is_none() {
        if let Ok(exe) = std::env::current_exe() {
            let err = std::process::Command::new(exe)
                .args(std::env::args_os().skip(1))
                .env("OMP_THREAD_LIMIT", "1")
                .exec();
            eprintln!("sohoa: cannot re-execute with OMP_THREAD_LIMIT=1: {err}");
        }
    }
    // Colour codes only for a terminal, never into a log file or a pipe.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(sohoa::cli::env_filter(
            std::env::var("SOHOA_LOG").ok().as_deref(),
        ))
        .init();
    match sohoa::cli::parse(std::env::args_os().collect()) {
        Ok(cli) => sohoa::cli::run(cli).into(),
        Err(exit) => exit.into(),
    }
}
