//! Analyzer throughput per language on a corpus laid out as `<lang>/...*.md`:
//!
//! ```sh
//! cargo run --release --example analyze_throughput -- ../shared/corpus/k8s-docs
//! ```
use std::time::Instant;
fn main() {
    let root = std::env::args().nth(1).unwrap();
    for lang in ["en", "zh-cn", "uk"] {
        let mut texts = vec![];
        for e in walkdir::WalkDir::new(format!("{root}/{lang}")) {
            let e = e.unwrap();
            if e.path().extension().is_some_and(|x| x == "md") {
                texts.push(std::fs::read_to_string(e.path()).unwrap());
            }
        }
        let bytes: usize = texts.iter().map(|t| t.len()).sum();
        let t0 = Instant::now();
        let mut n = 0usize;
        for t in &texts {
            kb::analysis::analyze(t, &mut |_| n += 1);
        }
        let dt = t0.elapsed().as_secs_f64();
        println!(
            "{lang}: {:.1} MB, {n} tokens, {dt:.2}s, {:.1} MB/s",
            bytes as f64 / 1e6,
            bytes as f64 / 1e6 / dt
        );
    }
}
