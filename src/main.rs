//! The `cwmpd` command: see `cwmpd --help`.

// In the binary, not the library: a libc function defined by a library would be defined
// twice wherever two copies of it are linked (its own unit tests link one through the test
// ACS). A vendor's binary on static musl may add the same module.
#[cfg(all(target_env = "musl", target_feature = "crt-static"))]
mod musl;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    cwmpd::cli::main(&args)
}
