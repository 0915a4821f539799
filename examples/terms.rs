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
