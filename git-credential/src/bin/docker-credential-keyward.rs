#![forbid(unsafe_code)]
fn main() {
    std::process::exit(1);
}
