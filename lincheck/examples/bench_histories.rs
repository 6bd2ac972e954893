//! Prints the per-file table of `benches/histories.rs`:
//! `cargo run --release -p lincheck --example bench_histories [DIR]`.

#[path = "../benches/histories.rs"]
mod histories;

fn main() {
    histories::main();
}
