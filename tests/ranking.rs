//! Ranking rules, on small purpose-built help centers searched in-process.

use std::sync::Arc;

use kb::index::{SearchIndex, writer};
use kb::search::{Engine, Ranking, SearchParams};

use crate::util::Dir;

fn engine(dir: &Dir) -> Engine {
    engine_with(dir, Ranking::default())
}

fn engine_with(dir: &Dir, ranking: Ranking) -> Engine {
    let idx = SearchIndex::open_or_create(&dir.index()).unwrap();
    let mut w = writer::open_writer(&idx).unwrap();
    let report = writer::sync(&idx, &mut w, &dir.articles(), &Default::default()).unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    Engine::new(Arc::new(idx), ranking)
}

fn search(engine: &Engine, q: &str) -> Vec<String> {
    search_with(engine, &SearchParams::new(q))
}

fn search_with(engine: &Engine, params: &SearchParams) -> Vec<String> {
    engine
        .search(params)
        .unwrap()
        .results
        .into_iter()
        .map(|h| h.path)
        .collect()
}

#[test]
fn documents_with_all_words_rank_above_those_with_some() {
    let dir = Dir::new();
    // Many mentions of one word, against one mention of each.
    dir.write(
        "a.md",
        "# Shipping\n\nShipping shipping shipping. Shipping times, shipping costs, shipping zones.",
    );
    dir.write(
        "b.md",
        "# Refund\n\nRefund refund refund. Refund policy, refund times, refund methods.",
    );
    dir.write(
        "c.md",
        "# Orders\n\nA long article about orders in general, their history and the many steps an \
         order goes through, with one line on what happens to a refund when shipping fails, and \
         much more text about orders, baskets, checkout pages and receipts.",
    );
    let e = engine(&dir);
    let r = search(&e, "refund shipping");
    assert_eq!(r[0], "c.md", "{r:?}");
    assert_eq!(r.len(), 3);
    // More of the words beats fewer, whatever the counts.
    let r = search(&e, "refund shipping receipts");
    assert_eq!(r[0], "c.md", "{r:?}");
}

#[test]
fn function_words_are_not_required() {
    let dir = Dir::new();
    dir.write(
        "reset.md",
        "# Reset your password\n\nOpen settings and choose reset password.",
    );
    dir.write(
        "long.md",
        "# Account help\n\nHow do I do this? If my password was stolen I can reset it, but how \
         you do that depends on what you use.",
    );
    let e = engine(&dir);
    assert_eq!(search(&e, "how do I reset my password")[0], "reset.md");
}

#[test]
fn words_together_rank_above_words_apart() {
    let dir = Dir::new();
    dir.write(
        "apart.md",
        "# Notes\n\nThe card was charged twice. Separately, the payment screen shows a method list.",
    );
    dir.write(
        "together.md",
        "# Notes\n\nThe list was updated. Add a payment method from the card screen twice.",
    );
    let e = engine(&dir);
    assert_eq!(search(&e, "payment method")[0], "together.md");
}

#[test]
fn title_matches_rank_first() {
    let dir = Dir::new();
    dir.write("a.md", "# Delivery times\n\nWhen your order arrives.");
    dir.write(
        "b.md",
        "# Orders\n\nDelivery times vary. Delivery times are longer in winter. Delivery times.",
    );
    let e = engine(&dir);
    assert_eq!(search(&e, "delivery times")[0], "a.md");
}

#[test]
fn misspelled_words_of_five_letters_or_more_still_find_their_article() {
    let dir = Dir::new();
    dir.write(
        "grinder.md",
        "# Grinder won't connect\n\nIf the grinder won't connect over Bluetooth, restart it.",
    );
    dir.write("billing.md", "# Billing\n\nInvoices and payments.");
    let e = engine(&dir);
    for q in [
        "grindr",
        "bluetoth",
        "conect grinder",
        "connetc",
        "Bleutooth",
    ] {
        assert_eq!(
            search(&e, q).first().map(String::as_str),
            Some("grinder.md"),
            "{q}"
        );
    }
    // Exact matches still win over corrections.
    dir.write("grind.md", "# Grind size\n\nChoose a grind size.");
    let e = engine(&dir);
    assert_eq!(search(&e, "grind")[0], "grind.md");
}

#[test]
fn compounds_and_their_parts_find_each_other_in_chinese() {
    let dir = Dir::new();
    dir.write(
        "zh-cn/support.md",
        "# 联系客户支持\n\n我们的客户支持团队全天在线。",
    );
    dir.write("zh-cn/tech.md", "# 技术支持\n\n技术问题请提交工单。");
    let e = engine(&dir);
    let r = search(&e, "支持");
    assert!(
        r.contains(&"zh-cn/support.md".into()) && r.contains(&"zh-cn/tech.md".into()),
        "{r:?}"
    );
    assert_eq!(search(&e, "客户支持")[0], "zh-cn/support.md");
}

#[test]
fn stemming_matches_word_forms() {
    let dir = Dir::new();
    dir.write(
        "en.md",
        "# Connecting devices\n\nThe device connects after pairing.",
    );
    dir.write(
        "uk.md",
        "# Налаштування підписки\n\nЗмініть налаштування своєї підписки.",
    );
    let e = engine(&dir);
    assert_eq!(search(&e, "connection")[0], "en.md");
    assert_eq!(search(&e, "підписка")[0], "uk.md");
    assert_eq!(search(&e, "налаштуваннях")[0], "uk.md");
}

#[test]
fn thai_text_is_searchable_by_word() {
    let dir = Dir::new();
    dir.write("th/password.md", "# เปลี่ยนรหัสผ่าน\n\nวิธีเปลี่ยนรหัสผ่านของคุณ");
    let e = engine(&dir);
    assert_eq!(search(&e, "รหัสผ่าน"), ["th/password.md"]);
}

#[test]
fn a_whole_last_word_is_completed_only_while_typing() {
    let dir = Dir::new();
    dir.write(
        "password.md",
        "# Reset your password\n\nChoose a new password.",
    );
    dir.write("pass.md", "# Boarding pass\n\nShow your pass at the gate.");
    let e = engine(&dir);
    // A submitted search for a word the index knows means that word.
    assert_eq!(search(&e, "pass"), ["pass.md"]);
    // While typing (`partial=1`), it may be the beginning of a longer word.
    let typing = SearchParams {
        typing: true,
        ..SearchParams::new("pass")
    };
    let r = search_with(&e, &typing);
    assert_eq!(r[0], "pass.md", "{r:?}");
    assert!(r.contains(&"password.md".to_string()), "{r:?}");
    // A word the index does not know is completed either way.
    assert_eq!(search(&e, "passw")[0], "password.md");
}

#[test]
fn a_translated_heading_is_found_by_its_original_anchor() {
    let dir = Dir::new();
    // The translation keeps the original's anchor so that links into the page still work.
    dir.write(
        "zh-tw/reactivity.md",
        "# 深入響應式系統\n\n響應式的原理。\n\n## 偵聽器調試 {#watcher-debugging}\n\n偵聽器的回調。",
    );
    dir.write("zh-tw/other.md", "# 其他\n\nWatcher 是什麼。");
    let e = engine(&dir);
    let r = search(&e, "Watcher Debugging");
    assert_eq!(r, ["zh-tw/reactivity.md", "zh-tw/other.md"]);
}

#[test]
fn of_two_pages_matching_alike_the_longer_ranks_first() {
    let dir = Dir::new();
    // A glossary-like stub and the article that treats the subject, each naming it once in
    // its title and once in its text.
    dir.write("glossary-eviction.md", "# Eviction\n\nEviction ends a Pod.");
    dir.write(
        "eviction-guide.md",
        "# Eviction\n\nEviction ends a Pod when a node runs short of memory or disk. The \
         kubelet watches the node's resources, picks the Pods to stop by their priority and \
         use, and reports what it did in the node's conditions and in events, so that the \
         scheduler places new Pods elsewhere until the pressure is gone.",
    );
    let e = engine(&dir);
    let r = search(&e, "eviction");
    assert_eq!(r, ["eviction-guide.md", "glossary-eviction.md"]);
}

#[test]
fn a_misspelled_title_is_still_the_title() {
    let dir = Dir::new();
    dir.write(
        "kubectl-certificate.md",
        "# kubectl certificate\n\nApprove or deny a request.",
    );
    dir.write(
        "signing.md",
        "# Certificates in kubectl\n\nA kubectl certificate request is signed by the \
         cluster. Run kubectl certificate approve to sign it, kubectl certificate deny to \
         refuse it; the certificate is then issued to the kubelet or the user who asked for \
         it, and kubectl shows its state with the other requests of the cluster and their \
         conditions.\n\n## kubectl certificate approve\n\nSigns the certificate.",
    );
    let q = "kubectl certificane";
    // Without the corrected title match the page that says the corrected words most ranks
    // first; with it, the page titled with the query, as for the query spelled right.
    let plain = engine_with(&dir, Ranking::with_overrides("title_corrected=0"));
    assert_eq!(search(&plain, q)[0], "signing.md");
    assert_eq!(search(&engine(&dir), q)[0], "kubectl-certificate.md");
    assert_eq!(
        search(&engine(&dir), "kubectl certificate")[0],
        "kubectl-certificate.md"
    );
}

#[test]
fn words_together_in_one_heading_rank_above_words_in_several() {
    let dir = Dir::new();
    dir.write(
        "together.md",
        "# Deployments\n\nRolling out an app.\n\n## Rolling update strategy\n\nPods are \
         replaced a few at a time, so an update never stops the app.",
    );
    dir.write(
        "apart.md",
        "# DaemonSet strategies\n\nHow a DaemonSet replaces its Pods when its template changes: \
         a rolling one, node by node, or only when a Pod is deleted; watch the rollout while \
         it runs.\n\n## Rolling back an update\n\nThe previous version.",
    );
    // Other pages, so that the query's words are rare enough to weigh.
    for i in 0..8 {
        dir.write(
            &format!("other-{i}.md"),
            "# Services\n\nA stable address for Pods.",
        );
    }
    let q = "rolling update strategy";
    // Without the heading phrase the page with the words apart (one in its title) ranks
    // first; with it, the page with a section named like the query.
    let apart = engine_with(&dir, Ranking::with_overrides("phrase_headings=0"));
    assert_eq!(search(&apart, q)[0], "apart.md");
    assert_eq!(search(&engine(&dir), q)[0], "together.md");
}

#[test]
fn a_chinese_compound_counts_once_not_once_per_part() {
    let dir = Dir::new();
    // 应用程序 (application) is one word of the query; its parts 应用 (to apply) and 程序
    // (program) are searched too, so that a page saying them apart is found, but they are
    // not two more words of the query.
    dir.write("parts.md", "# 退款\n\n每个应用都可以退款。我们的程序很快。");
    dir.write("component.md", "# 组件\n\n组件是可以替换的部分。");
    for i in 0..6 {
        dir.write(&format!("other-{i}.md"), "# 服务\n\n稳定的地址。");
    }
    let q = "应用程序 组件";
    let per_part = engine_with(&dir, Ranking::with_overrides("part=1"));
    assert_eq!(search(&per_part, q)[0], "parts.md");
    assert_eq!(search(&engine(&dir), q)[0], "component.md");
}

#[test]
fn each_punctuated_chunk_of_a_query_is_a_phrase() {
    let dir = Dir::new();
    dir.write(
        "together.md",
        "# Reactivity\n\nA guide to how it works.\n\n## Computed debugging\n\nUse the hooks.",
    );
    dir.write(
        "apart.md",
        "# Computed values\n\nA guide to computed values and their caching. For debugging, \
         see the guide on tools.",
    );
    for i in 0..8 {
        dir.write(
            &format!("other-{i}.md"),
            "# Services\n\nA stable address for Pods.",
        );
    }
    // "Guide" is a breadcrumb: the whole query is no page's phrase, its last chunk is.
    let q = "Guide - Computed Debugging";
    let whole_only = engine_with(&dir, Ranking::with_overrides("phrase_chunk=0"));
    assert_eq!(search(&whole_only, q)[0], "apart.md");
    assert_eq!(search(&engine(&dir), q)[0], "together.md");
}

#[test]
fn a_chinese_word_cut_otherwise_in_the_page_is_found_by_its_bigrams() {
    let dir = Dir::new();
    // jieba cuts the page 我们|和|平台|团队: it has the characters of 和平, not the word.
    dir.write("a.md", "# 团队\n\n我们和平台团队一起工作。");
    dir.write("b.md", "# 其他\n\n别的内容。");
    let page: Vec<String> = kb::analysis::analyze_to_vec("我们和平台团队一起工作")
        .into_iter()
        .map(|t| t.text)
        .collect();
    assert!(!page.contains(&"和平".to_string()), "{page:?}");
    assert_eq!(search(&engine(&dir), "和平"), ["a.md"]);
    let words_only = Ranking {
        bigram_fallback: 0.0,
        bigram: 0.0,
        ..Ranking::default()
    };
    assert!(search(&engine_with(&dir, words_only), "和平").is_empty());
}

#[test]
fn bigrams_stand_in_for_a_word_only_where_it_is_missing() {
    let dir = Dir::new();
    // 亲和性 is one word of both pages: the bigram fallback adds nothing to either, and the
    // ranking is the same with and without it.
    dir.write("a.md", "# 节点亲和性\n\n亲和性规则。");
    dir.write("b.md", "# 调度\n\n亲和性和反亲和性，调度器的规则，亲和性。");
    let fallback_only = Ranking {
        bigram: 0.0,
        ..Ranking::default()
    };
    let words_only = Ranking {
        bigram_fallback: 0.0,
        ..fallback_only.clone()
    };
    let scores = |ranking: Ranking| -> Vec<(String, f32)> {
        engine_with(&dir, ranking)
            .search(&SearchParams::new("亲和性"))
            .unwrap()
            .results
            .into_iter()
            .map(|h| (h.path, h.score))
            .collect()
    };
    assert_eq!(scores(fallback_only), scores(words_only));
}

#[test]
fn equal_pages_rank_by_path_whatever_order_they_were_indexed_in() {
    let page = "# Certificate approve\n\nApprove a certificate signing request.";
    // Each order of indexing, the second page by a later sync (in folders of their own, so
    // that the first is not indexed again): a newer segment, or later in a merged one.
    for (first, second) in [("x/a.md", "y/b.md"), ("y/b.md", "x/a.md")] {
        let dir = Dir::new();
        dir.write(first, page);
        let idx = SearchIndex::open_or_create(&dir.index()).unwrap();
        let mut w = writer::open_writer(&idx).unwrap();
        writer::sync(&idx, &mut w, &dir.articles(), &Default::default()).unwrap();
        dir.write(second, page);
        let report = writer::sync(&idx, &mut w, &dir.articles(), &Default::default()).unwrap();
        assert_eq!((report.added, report.unchanged), (1, 1));
        let e = Engine::new(Arc::new(idx), Ranking::default());
        let r = e.search(&SearchParams::new("certificate approve")).unwrap();
        assert_eq!(r.results[0].score, r.results[1].score, "a tie");
        assert_eq!(search(&e, "certificate approve"), ["x/a.md", "y/b.md"]);
        let mut params = SearchParams::new("certificate approve");
        params.limit = 1;
        assert_eq!(search_with(&e, &params), ["x/a.md"]);
        // The report's nearest articles (one result per document, not per group) too.
        let nearest = |limit| -> Vec<String> {
            e.closest("certificate approve", None, limit)
                .unwrap()
                .into_iter()
                .map(|n| n.hit.path)
                .collect()
        };
        assert_eq!(nearest(2), ["x/a.md", "y/b.md"]);
        assert_eq!(nearest(1), ["x/a.md"]);
    }
}
