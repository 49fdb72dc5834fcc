//! The `cwmpd` command: see `cwmpd --help`.

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    cwmpd::cli::main(&args)
}
