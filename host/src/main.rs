fn main() -> std::process::ExitCode {
    tillbridge::cli::main()
}
