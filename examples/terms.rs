//! Prints the terms kb's analyzer makes of each argument: `(e)` marks the unstemmed form of
//! a word, `(p)` a part of a compound.
//!
//! ```sh
//! cargo run --release --example terms -- "重設密碼" "Podʼів" "resetting passwords"
//! ```
fn main() {
    for a in std::env::args().skip(1) {
        let t: Vec<String> = kb::analysis::analyze_to_vec(&a)
            .into_iter()
            .map(|t| {
                format!(
                    "{}{}",
                    t.text,
                    match t.kind {
                        kb::analysis::TokenKind::Word => "",
                        kb::analysis::TokenKind::Exact => "(e)",
                        kb::analysis::TokenKind::Part => "(p)",
                    }
                )
            })
            .collect();
        println!("{a} => {}", t.join(" "));
    }
}
