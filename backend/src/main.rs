//! Stub: the service (configure → connect → migrate → serve) arrives with issue 5.
fn main() {
    eprintln!("backend: not implemented yet (issue 5)");
    std::process::exit(1);
}
