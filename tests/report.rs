//! The content-gap report on a synthetic history with planted gaps ([`crate::history`]): each
//! planted gap is at the top of its list, and nothing else is listed.

use std::sync::Arc;

use serde_json::Value;

use crate::history::{self, Options, planted};
use crate::util::{Backend, Dir, Server, on_both_backends};
use kb::index::{SearchIndex, writer};
use kb::report::ArticleInfo;
use kb::search::{Engine, Ranking};

/// The sample help center (and the report's fixture articles) in a git repository with a backdated history, and 60 days of
/// events in its metrics database.
pub fn help_center_with_history(backend: Backend) -> Dir {
    let dir = Dir::new().on(backend);
    history::help_center(&dir.articles());
    let now = kb::metrics::now();
    history::git_history(&dir.articles(), now);
    let idx = SearchIndex::in_memory().unwrap();
    let mut w = writer::open_writer(&idx).unwrap();
    writer::sync(&idx, &mut w, &dir.articles(), &Default::default()).unwrap();
    let engine = Engine::new(Arc::new(idx), Ranking::default());
    let articles = ArticleInfo::from_catalog(&engine.index().catalog(), &dir.articles());
    let queries = history::article_queries(&dir.articles());
    let events = history::events(&engine, &articles, &queries, Options::new(now));
    let searches = events
        .iter()
        .filter(|e| matches!(e, kb::metrics::Event::Search(s) if !s.partial))
        .count();
    assert!(searches > 5000, "a realistic volume: {searches} searches");
    let mut store = dir.store();
    for chunk in events.chunks(10_000) {
        store.append(chunk).unwrap();
    }
    dir
}

on_both_backends!(
    the_report_finds_every_planted_gap_and_nothing_else,
    report_command_errors_say_what_to_do,
    admin_routes_need_the_token,
    advice_says_what_the_article_was_when_readers_searched,
);

/// How well the report merges the planted phrasings into needs, counted over pairs of
/// phrasings: precision, the share of pairs listed on one line that are one need; recall, the
/// share of pairs that are one need listed on one line. The needs: the student discount in
/// English and in Chinese (one need, two languages), the paraphrase family, the vacation
/// pause, cancelling an order in English and Ukrainian, and each phrasing of the distractor
/// pairs alone ("cancel subscription" apart from "cancel order").
fn merging_precision_recall(to_write: &Value) -> (f64, f64) {
    let mut student: Vec<&str> = planted::NO_RESULTS.iter().map(|p| p.0).collect();
    student.extend(planted::NO_RESULTS_ZH.iter().map(|p| p.0));
    let mut needs: Vec<Vec<&str>> = vec![
        student,
        planted::PARAPHRASES_ZH.iter().map(|p| p.0).collect(),
        planted::NO_CLICKS.iter().map(|p| p.0).collect(),
        planted::ORDERS.iter().map(|p| p.0).collect(),
        vec![planted::CANCEL_SUBSCRIPTION.0],
    ];
    needs.extend(planted::DISTRACTORS.iter().map(|p| vec![p.0]));
    // Each phrasing → (its need, the line that lists it).
    let mut placed: Vec<(usize, Option<usize>)> = Vec::new();
    for (need, planted_phrasings) in needs.iter().enumerate() {
        for q in planted_phrasings {
            let line = to_write
                .as_array()
                .unwrap()
                .iter()
                .position(|i| phrasings(i).contains(q));
            placed.push((need, line));
        }
    }
    let (mut together, mut same_line, mut both) = (0, 0, 0);
    for (i, a) in placed.iter().enumerate() {
        for b in &placed[i + 1..] {
            let one_line = a.1.is_some() && a.1 == b.1;
            together += u32::from(a.0 == b.0);
            same_line += u32::from(one_line);
            both += u32::from(one_line && a.0 == b.0);
        }
    }
    (
        f64::from(both) / f64::from(same_line.max(1)),
        f64::from(both) / f64::from(together.max(1)),
    )
}

fn items<'a>(list: &'a Value, kind: &str) -> Vec<&'a Value> {
    list.as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == kind)
        .collect()
}

/// The phrasings a need lists (its `queries`' texts).
fn phrasings(item: &Value) -> Vec<&str> {
    item["queries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["text"].as_str().unwrap())
        .collect()
}

fn field<'a>(items: &[&'a Value], name: &str) -> Vec<&'a str> {
    items
        .iter()
        .map(|i| i[name].as_str().unwrap_or(""))
        .collect()
}

fn the_report_finds_every_planted_gap_and_nothing_else(backend: Backend) {
    let dir = help_center_with_history(backend);
    let out = dir.run(&["report", "--format", "json"]);
    out.assert_ok();
    let r: Value = serde_json::from_str(&out.stdout).unwrap();
    let dump = || serde_json::to_string_pretty(&r).unwrap();
    let (precision, recall) = merging_precision_recall(&r["to_write"]);
    eprintln!("merging of the planted phrasings: precision {precision:.2}, recall {recall:.2}");

    // To write: searches that find nothing, one line per need whatever its spelling, script
    // or language: the English and Chinese phrasings are one need, since the articles being
    // written name both.
    let none = items(&r["to_write"], "no_results");
    assert_eq!(none.len(), 1, "{}", dump());
    let student = none[0];
    assert_eq!(student["query"], "student discount");
    let typed = phrasings(student);
    let zh_phrasings = planted::NO_RESULTS_ZH.iter().map(|(q, _, _)| q);
    for q in planted::NO_RESULTS
        .iter()
        .map(|(q, _)| q)
        .chain(zh_phrasings)
    {
        assert!(typed.contains(q), "{q} is in the need: {typed:?}");
    }
    let student_searches: usize = planted::NO_RESULTS.iter().map(|(_, n)| n).sum::<usize>()
        + planted::NO_RESULTS_ZH.iter().map(|p| p.2).sum::<usize>();
    assert_eq!(student["searches"], student_searches);
    assert_eq!(student["no_results"], student_searches);
    assert_eq!(student["visitors"], student_searches);
    assert_eq!(student["contacts"], planted::NO_RESULTS_CONTACTS);
    assert_eq!(student["previous"], 5);
    assert_eq!(student["covered"], false);
    assert_eq!(
        student["languages"],
        serde_json::json!(["en", "zh-cn", "zh-tw"])
    );
    assert!(
        student["action"]
            .as_str()
            .unwrap()
            .starts_with("Write an article about “student discount”"),
        "{}",
        student["action"]
    );
    let student_why = format!(
        "{student_searches} searches by {student_searches} people for “student discount” (in en, zh-cn, zh-tw) found nothing; {} then contacted support",
        planted::NO_RESULTS_CONTACTS
    );
    assert!(
        student["why"].as_str().unwrap().contains(&student_why),
        "{}",
        student["why"]
    );

    // Searches whose results nobody opens: the closest article lacks one word.
    let unopened = items(&r["to_write"], "no_clicks");
    assert_eq!(unopened.len(), 4 + planted::DISTRACTORS.len(), "{}", dump());
    // The paraphrase family is one need, its people counted once.
    let family = unopened
        .iter()
        .find(|i| i["query"] == planted::PARAPHRASES_ZH[0].0)
        .unwrap_or_else(|| panic!("{}", dump()));
    let family_searches: usize = planted::PARAPHRASES_ZH.iter().map(|p| p.2).sum();
    assert_eq!(family["searches"], family_searches, "{family:#}");
    assert_eq!(family["no_clicks"], family_searches, "{family:#}");
    assert_eq!(
        family["visitors"],
        planted::PARAPHRASES_ZH_PEOPLE,
        "{family:#}"
    );
    assert_eq!(family["languages"], serde_json::json!(["zh-cn", "zh-tw"]));
    // The distractor pair: alike words, different articles first: two lines.
    for &(q, first, times) in planted::DISTRACTORS {
        let line: Vec<&&Value> = unopened.iter().filter(|i| i["query"] == q).collect();
        assert_eq!(line.len(), 1, "{q}: {}", dump());
        assert_eq!(line[0]["searches"], times, "{:#}", line[0]);
        assert_eq!(line[0]["closest"][0]["path"], first, "{:#}", line[0]);
    }
    // Cancelling an order, in English and Ukrainian, answered by one translation group:
    // one line in both languages; cancelling a subscription, a line of its own.
    let orders = unopened
        .iter()
        .find(|i| i["query"] == planted::ORDERS[0].0)
        .unwrap_or_else(|| panic!("{}", dump()));
    let order_searches: usize = planted::ORDERS.iter().map(|p| p.2).sum();
    let order_opened = order_searches.div_ceil(4);
    assert_eq!(orders["searches"], order_searches, "{orders:#}");
    assert_eq!(orders["visitors"], order_searches, "{orders:#}");
    assert_eq!(
        orders["no_clicks"],
        order_searches - order_opened,
        "{orders:#}"
    );
    assert_eq!(orders["languages"], serde_json::json!(["en", "uk"]));
    let order_typed = phrasings(orders);
    for (q, _, _) in planted::ORDERS {
        assert!(order_typed.contains(q), "{q}: {orders:#}");
    }
    let (cancel, cancel_first, cancel_times) = planted::CANCEL_SUBSCRIPTION;
    let line: Vec<&&Value> = unopened.iter().filter(|i| i["query"] == cancel).collect();
    assert_eq!(line.len(), 1, "{cancel}: {}", dump());
    assert_eq!(line[0]["searches"], cancel_times, "{:#}", line[0]);
    assert_eq!(line[0]["closest"][0]["path"], cancel_first, "{:#}", line[0]);
    assert_eq!((precision, recall), (1.0, 1.0), "{}", dump());
    let unopened: Vec<&Value> = unopened
        .into_iter()
        .filter(|i| i["query"] == "pause for vacation")
        .collect();
    assert_eq!(unopened.len(), 1, "{}", dump());
    assert_eq!(unopened[0]["searches"], 26, "the typo variant is merged");
    let closest = &unopened[0]["closest"][0];
    assert_eq!(closest["path"], planted::NO_CLICKS_ARTICLE);
    assert_eq!(
        closest["missing"],
        serde_json::json!([planted::NO_CLICKS_MISSING])
    );
    let action = unopened[0]["action"].as_str().unwrap();
    assert!(
        action.starts_with("Add the word “vacation” to “Pause or cancel your subscription”"),
        "{action}"
    );

    // Demand in a language without a translation.
    let translate = items(&r["to_write"], "translation");
    assert_eq!(
        field(&translate, "path"),
        [
            planted::TRANSLATE_UK_ARTICLE,
            planted::TRANSLATE_ZH_TW_ARTICLE
        ],
        "{}",
        dump()
    );
    assert_eq!(translate[0]["languages"], serde_json::json!(["uk"]));
    assert!(
        translate[0]["action"]
            .as_str()
            .unwrap()
            .starts_with("Translate “Delivery times and tracking your box”"),
        "{}",
        translate[0]["action"]
    );
    assert!(
        translate[0]["action"]
            .as_str()
            .unwrap()
            .ends_with("into uk")
    );
    assert_eq!(translate[1]["languages"], serde_json::json!(["zh-tw"]));
    assert_eq!(r["to_write"].as_array().unwrap().len(), 9, "{}", dump());

    // To update, one list per kind, each planted article on top and nothing else.
    let update = &r["to_update"];
    let paths = |kind: &str| field(&items(update, kind), "path");
    assert_eq!(
        paths("unhelpful"),
        [planted::UNHELPFUL, planted::UNHELPFUL_FEW],
        "{}",
        dump()
    );
    let unhelpful = items(update, "unhelpful")[0];
    assert_eq!(
        (unhelpful["yes"].as_u64(), unhelpful["no"].as_u64()),
        (Some(20), Some(40))
    );
    assert_eq!(unhelpful["reasons"]["unclear"], 25);
    assert_eq!(unhelpful["reasons"]["incomplete"], 15);
    assert!(!unhelpful["comments"].as_array().unwrap().is_empty());
    assert!(
        unhelpful["unhelpful_at_least"].as_f64().unwrap()
            > items(update, "unhelpful")[1]["unhelpful_at_least"]
                .as_f64()
                .unwrap(),
        "three votes do not outrank sixty"
    );
    assert_eq!(paths("outdated"), [planted::OUTDATED]);
    assert!(
        items(update, "outdated")[0]["action"]
            .as_str()
            .unwrap()
            .contains("7 of 9 readers said outdated")
    );
    assert_eq!(
        paths("contact_after_view"),
        [planted::CONTACT_AFTER_VIEW],
        "{}",
        dump()
    );
    assert_eq!(paths("stale"), [planted::STALE]);
    assert_eq!(paths("translation_behind"), [planted::TRANSLATION_BEHIND]);
    assert_eq!(
        items(update, "translation_behind")[0]["source"],
        planted::TRANSLATION_SOURCE
    );
    assert_eq!(paths("unread"), [planted::UNREAD], "{}", dump());
    assert_eq!(paths("unfound"), [planted::UNFOUND], "{}", dump());
    let due: Vec<&str> = planted::REVIEW_DUE.iter().map(|(_, p)| *p).collect();
    assert_eq!(paths("review_due"), due);
    for (owner, path) in planted::REVIEW_DUE {
        assert_eq!(
            r["review_queue"][owner],
            serde_json::json!([path]),
            "{}",
            dump()
        );
    }
    assert_eq!(r["review_queue"].as_object().unwrap().len(), 2);
    // Every item says why and what to do.
    for item in r["to_write"]
        .as_array()
        .unwrap()
        .iter()
        .chain(update.as_array().unwrap())
    {
        assert!(!item["why"].as_str().unwrap().is_empty(), "{item:#}");
        assert!(!item["action"].as_str().unwrap().is_empty(), "{item:#}");
    }

    // Top lists, with the change on the period before.
    let top = r["top_searches"].as_array().unwrap();
    assert_eq!(top.len(), 10);
    assert!(
        top.windows(2)
            .all(|w| w[0]["count"].as_u64() >= w[1]["count"].as_u64())
    );
    assert!(
        top.iter()
            .all(|t| t["change"].as_str().is_some_and(|c| !c.is_empty()))
    );
    assert_eq!(r["top_linked"][0]["path"], planted::MOST_LINKED);
    assert!(r["top_articles"].as_array().unwrap().len() >= 5);
    // Every search that found nothing is in its top list, a need of one person too.
    let failed = r["top_no_results"].as_array().unwrap();
    assert_eq!(failed[0]["label"], "student discount");
    assert_eq!(failed[0]["count"], student_searches);
    assert!(
        failed
            .iter()
            .any(|t| t["label"] == planted::ONE_PERSON && t["count"] == 5),
        "{failed:#?}"
    );
    // Agents' searches are not customer demand.
    assert!(!out.stdout.contains(planted::AGENT_NO_RESULTS));
    assert!(
        r["summary"]["searches"].as_u64().unwrap() > 2500,
        "{}",
        r["summary"]
    );
    let days = r["charts"]["days"].as_array().unwrap();
    assert_eq!(days.len(), 31);
    // 30 days not starting at midnight touch 31 days: the first and last only in part.
    let partial: Vec<bool> = days.iter().map(|d| d["partial"] == true).collect();
    assert!(partial[0] && partial[30], "{days:?}");
    assert!(!partial[1..30].contains(&true), "{days:?}");

    // The same report in Markdown (the default), CSV and HTML.
    let md = dir.run(&["report"]);
    md.assert_ok();
    assert!(
        md.stdout.starts_with("# Content-gap report"),
        "{}",
        md.stdout
    );
    assert!(
        md.stdout
            .contains("**Write an article about “student discount”")
    );
    assert!(
        md.stdout.contains(
            "Review “Delivery times and tracking your box” — 7 of 9 readers said outdated"
        )
    );
    assert!(
        md.stdout
            .contains("**maria@brightbox.example**: en/account/reset-password.md")
    );
    // The paraphrase family is one line, with the JSON's figures, and no line of its own
    // for a shorter phrasing.
    let family_why = format!(
        "{family_searches} searches by {} people for “{}” (in zh-cn, zh-tw) showed results nobody opened",
        planted::PARAPHRASES_ZH_PEOPLE,
        planted::PARAPHRASES_ZH[0].0
    );
    let shorter_why = format!("people for “{}”", planted::PARAPHRASES_ZH[2].0);
    assert_eq!(md.stdout.matches(&family_why).count(), 1, "{}", md.stdout);
    assert!(!md.stdout.contains(&shorter_why), "{}", md.stdout);
    let csv = dir.run(&["report", "--format", "csv"]);
    csv.assert_ok();
    let mut reader = csv::Reader::from_reader(csv.stdout.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(reader.headers().unwrap().get(0), Some("section"));
    let to_write_rows = rows.iter().filter(|r| &r[0] == "to_write").count();
    assert_eq!(to_write_rows, 9);
    let family_rows: Vec<&csv::StringRecord> = rows
        .iter()
        .filter(|r| {
            &r[0] == "to_write" && r.iter().any(|f| f.contains(planted::PARAPHRASES_ZH[0].0))
        })
        .collect();
    assert_eq!(family_rows.len(), 1, "{rows:?}");
    assert!(
        family_rows[0]
            .iter()
            .any(|f| f == family_searches.to_string()),
        "{rows:?}"
    );
    assert!(!csv.stdout.contains(&shorter_why));
    assert!(
        rows.iter()
            .any(|r| &r[0] == "to_update" && &r[1] == "stale" && &r[3] == planted::STALE)
    );
    let html = dir.run(&["report", "--format", "html"]);
    html.assert_ok();
    assert!(html.stdout.contains("<svg class=\"chart\""));
    assert_eq!(html.stdout.matches("<svg class=\"chart\"").count(), 3);
    assert!(
        !html.stdout.contains("<script"),
        "self-contained and static"
    );
    assert!(!html.stdout.contains("<link"), "no external files");
    assert!(html.stdout.contains("Add the word “vacation”"));
    assert_eq!(html.stdout.matches(&family_why).count(), 1);
    assert!(!html.stdout.contains(&shorter_why));
    // The student discount is one line in English and Chinese in every format, with the
    // JSON's figures.
    assert_eq!(md.stdout.matches(&student_why).count(), 1, "{}", md.stdout);
    assert_eq!(html.stdout.matches(&student_why).count(), 1);
    let student_rows: Vec<&csv::StringRecord> = rows
        .iter()
        .filter(|r| &r[0] == "to_write" && r.iter().any(|f| f.contains("student discount")))
        .collect();
    assert_eq!(student_rows.len(), 1, "{rows:?}");
    assert!(student_rows[0].iter().any(|f| f.contains(&student_why)));
    let zh = planted::NO_RESULTS_ZH[0].0;
    assert!(!rows.iter().any(|r| &r[0] == "to_write" && &r[2] == zh));
    assert!(!md.stdout.contains(&format!("people for “{zh}”")));
    // Cancelling an order is one line in both languages in every format, with the JSON's
    // figures; cancelling a subscription is another.
    let order_why = format!(
        "{order_searches} searches by {order_searches} people for “{}” (in en, uk): {} showed results nobody opened",
        planted::ORDERS[0].0,
        order_searches - order_opened
    );
    assert_eq!(md.stdout.matches(&order_why).count(), 1, "{}", md.stdout);
    assert_eq!(html.stdout.matches(&order_why).count(), 1);
    let order_rows: Vec<&csv::StringRecord> = rows
        .iter()
        .filter(|r| &r[0] == "to_write" && r.iter().any(|f| f.contains(&order_why)))
        .collect();
    assert_eq!(order_rows.len(), 1, "{rows:?}");
    for (q, _, _) in &planted::ORDERS[1..] {
        assert!(!rows.iter().any(|r| &r[0] == "to_write" && &r[2] == *q));
        assert!(!md.stdout.contains(&format!("people for “{q}”")));
        assert!(!html.stdout.contains(&format!("people for “{q}”")));
    }
    // Each phrasing of the distractor pairs is a line of its own in every format.
    let cancel_why = format!(
        "{cancel_times} searches by {cancel_times} people for “{cancel}” (in en) showed results nobody opened"
    );
    assert_eq!(md.stdout.matches(&cancel_why).count(), 1, "{}", md.stdout);
    assert_eq!(html.stdout.matches(&cancel_why).count(), 1);
    assert_eq!(
        rows.iter()
            .filter(|r| &r[0] == "to_write" && r.iter().any(|f| f.contains(&cancel_why)))
            .count(),
        1
    );
    for &(q, _, times) in planted::DISTRACTORS {
        let why = format!(
            "{times} searches by {times} people for “{q}” (in en) showed results nobody opened"
        );
        assert_eq!(md.stdout.matches(&why).count(), 1, "{why}\n{}", md.stdout);
        assert_eq!(html.stdout.matches(&why).count(), 1, "{why}");
    }

    // The same report in each interface language: headings and advice worded, the figures
    // and what readers typed as they are.
    for (lang, title, write_heading, outdated) in [
        (
            "zh-cn",
            "# 内容缺口报告",
            "### 搜不到结果的搜索",
            "审阅“Delivery times and tracking your box”",
        ),
        (
            "zh-tw",
            "# 內容缺口報告",
            "### 搜不到結果的搜尋",
            "審閱「Delivery times and tracking your box」",
        ),
        (
            "uk",
            "# Звіт про прогалини в контенті",
            "### Пошуки, що нічого не знаходять",
            "Перегляньте «Delivery times and tracking your box»",
        ),
        (
            "te",
            "# కంటెంట్ ఖాళీల నివేదిక",
            "### ఏమీ దొరకని శోధనలు",
            "“Delivery times and tracking your box”ను సమీక్షించండి",
        ),
    ] {
        let out = dir.run(&["report", "--lang", lang]);
        out.assert_ok();
        let md = &out.stdout;
        assert!(md.starts_with(title), "{lang}: {md}");
        assert!(md.contains(write_heading), "{lang}: {md}");
        assert!(md.contains(outdated), "{lang}: {md}");
        assert!(
            md.contains("student discount"),
            "{lang}: what readers typed stays"
        );
        for english in [
            "## To write",
            "## To update",
            "searches by",
            "Do:",
            "Write an article",
            "Top searches",
        ] {
            assert!(!md.contains(english), "{lang}: {english:?} in\n{md}");
        }
        let json = dir.run(&["report", "--hl", lang, "--format", "json"]);
        json.assert_ok();
        let j: Value = serde_json::from_str(&json.stdout).unwrap();
        // The same findings, worded.
        let findings = |report: &Value| -> Vec<Value> {
            report["to_write"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| {
                    serde_json::json!([
                        i["kind"],
                        i["advice"],
                        i["query"],
                        i["searches"],
                        i["languages"],
                        i["path"]
                    ])
                })
                .collect()
        };
        assert_eq!(findings(&j), findings(&r), "{lang}");
        assert_ne!(j["to_write"][0]["action"], r["to_write"][0]["action"]);
        assert_ne!(j["to_update"][0]["why"], r["to_update"][0]["why"]);
    }
    let out = dir.run(&["report", "--lang", "fr"]);
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr.contains("--lang must be one of"),
        "{}",
        out.stderr
    );

    // Shorter periods report on less.
    let week = dir.run(&["report", "--since", "7d", "--format", "json"]);
    week.assert_ok();
    let w: Value = serde_json::from_str(&week.stdout).unwrap();
    assert_eq!(w["days"], 7);
    assert!(w["summary"]["searches"].as_u64() < r["summary"]["searches"].as_u64());
}

fn report_command_errors_say_what_to_do(backend: Backend) {
    let dir = Dir::sample().on(backend);
    let out = dir.run(&["report"]);
    assert_eq!(out.code, Some(2));
    let nowhere = match backend {
        Backend::Sqlite => "no recorded events in data".to_string(),
        Backend::Postgres => format!("no recorded events in {}", dir.database_url().unwrap()),
    };
    assert!(out.stderr.contains(&nowhere), "{}", out.stderr);
    assert!(out.stderr.contains("kb serve"), "{}", out.stderr);
    let out = dir.run(&["report", "--since", "soon"]);
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr.contains("--since must be a period"),
        "{}",
        out.stderr
    );
}

const TOKEN: &str = "0123456789abcdef0123456789abcdef";
const EDIT_URL: &str = "https://git.example/acme/help/edit/main/articles/{path}";

fn admin_routes_need_the_token(backend: Backend) {
    let dir = help_center_with_history(backend);
    // Without a configured token, the routes do not exist.
    let s = Server::start(&dir, &[]);
    let bearer = format!("Bearer {TOKEN}");
    assert_eq!(
        s.request("GET", "/api/report", &[("authorization", &bearer)], None)
            .status,
        404
    );
    assert_eq!(s.request("GET", "/admin/report", &[], None).status, 404);
    drop(s);

    let s = Server::start_with_env(
        &dir,
        &["--no-watch", "--edit-url", EDIT_URL],
        &[("KB_ADMIN_TOKEN", TOKEN)],
    );
    let r = s.request("GET", "/api/report", &[], None);
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(
        r.header("www-authenticate")
            .is_some_and(|h| h.starts_with("Bearer"))
    );
    assert!(r.body.contains("Authorization: Bearer"), "{}", r.body);
    let r = s.request(
        "GET",
        "/api/report",
        &[("authorization", "Bearer wrong")],
        None,
    );
    assert_eq!(r.status, 401);
    assert!(r.body.contains("not right"));

    let r = s.request(
        "GET",
        "/api/report?since=30d",
        &[("authorization", &bearer)],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let report: Value = serde_json::from_str(&r.body).unwrap();
    for key in ["to_write", "to_update", "top_searches", "top_articles"] {
        assert!(report[key].is_array(), "{key}");
    }
    assert_eq!(report["to_write"][0]["query"], "student discount");
    assert_eq!(report["to_write"][0]["advice"], "write");
    let r = s.request(
        "GET",
        "/api/report?since=30d&hl=zh-tw",
        &[("authorization", &bearer)],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let worded: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(worded["to_write"][0]["query"], "student discount");
    assert!(
        worded["to_write"][0]["action"]
            .as_str()
            .unwrap()
            .starts_with("撰寫一篇關於「student discount」的文章"),
        "{}",
        worded["to_write"][0]["action"]
    );
    let r = s.request(
        "GET",
        "/api/report?since=whenever",
        &[("authorization", &bearer)],
        None,
    );
    assert_eq!(r.status, 400);
    assert!(r.body.contains("`since` must be a period"), "{}", r.body);

    // The page asks for the token, then shows the report.
    let r = s.request("GET", "/admin/report", &[], None);
    assert_eq!(r.status, 401);
    assert!(r.body.contains("type=\"password\""), "{}", r.body);
    let form = |token: &str, format: &str| format!("token={token}&since=30d&format={format}");
    let post = |body: &str| {
        s.request(
            "POST",
            "/admin/report",
            &[("content-type", "application/x-www-form-urlencoded")],
            Some(body),
        )
    };
    let r = post(&form("nope", "html"));
    assert_eq!(r.status, 401);
    assert!(r.body.contains("not right"), "{}", r.body);
    let r = post(&form(TOKEN, "html"));
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Content-gap report"));
    // Signed in: the page has its own period and format controls (issue 14), and each
    // article to update links to where it is edited.
    let session = r
        .header("set-cookie")
        .and_then(|c| c.split(';').next())
        .filter(|c| c.starts_with("kb_admin="))
        .unwrap_or_else(|| panic!("no sign-in cookie: {r:?}"))
        .to_string();
    assert!(!r.body.contains(TOKEN), "the page never holds the token");
    assert!(r.body.contains("<form class=\"controls\""), "{}", r.body);
    assert!(r.body.contains("<option value=\"7d\""), "{}", r.body);
    assert!(
        r.body.replace("&#x2f;", "/").contains(
            "href=\"https://git.example/acme/help/edit/main/articles/en/billing/pause-or-cancel-subscription.md\""
        ),
        "{}",
        r.body
    );
    let r = s.request(
        "GET",
        "/admin/report?since=7d&format=md&hl=en",
        &[("cookie", &session)],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("(7 days)"), "{}", r.body);
    assert!(
        r.body
            .contains("[edit](https://git.example/acme/help/edit/main/articles/en/"),
        "{}",
        r.body
    );
    // A forged or expired sign-in is only the form.
    for forged in [
        "kb_admin=99999999999999.AAAA".to_string(),
        format!("kb_admin=1.{}", session.rsplit('.').next().unwrap()),
    ] {
        let r = s.request(
            "GET",
            "/admin/report?since=7d",
            &[("cookie", &forged)],
            None,
        );
        assert_eq!(r.status, 401, "{forged}: {}", r.body);
    }
    let r = post(&form(TOKEN, "html"));
    assert!(r.body.contains("<svg class=\"chart\""));
    assert!(r.body.contains("student discount"));
    let r = post(&form(TOKEN, "csv"));
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-disposition")
            .is_some_and(|d| d.contains(".csv"))
    );
    assert!(r.body.starts_with("section,kind,"));
    // With the header, the page is the report at once.
    let r = s.request("GET", "/admin/report", &[("authorization", &bearer)], None);
    assert_eq!(r.status, 200);
    assert!(r.body.contains("To write"));
    // In the page's language: `hl`, else the browser's; the form keeps it.
    let r = s.request(
        "GET",
        "/admin/report?hl=uk",
        &[("authorization", &bearer)],
        None,
    );
    assert_eq!(r.status, 200);
    assert!(r.body.contains("<html lang=\"uk\">"), "{}", r.body);
    assert!(r.body.contains("Написати ("), "{}", r.body);
    assert!(!r.body.contains("To write"));
    let r = s.request(
        "GET",
        "/admin/report",
        &[("accept-language", "zh-CN,zh;q=0.9")],
        None,
    );
    assert_eq!(r.status, 401);
    assert!(r.body.contains("管理员令牌"), "{}", r.body);
    assert!(r.body.contains("name=\"hl\" value=\"zh-cn\""), "{}", r.body);
    let r = post(&format!("{}&hl=te", form(TOKEN, "md")));
    assert_eq!(r.status, 200);
    assert!(r.body.starts_with("# కంటెంట్ ఖాళీల నివేదిక"), "{}", r.body);

    // Guessing is rate-limited.
    let statuses: Vec<u16> = (0..15)
        .map(|i| {
            s.request(
                "GET",
                "/api/report",
                &[("authorization", &format!("Bearer guess{i}"))],
                None,
            )
            .status
        })
        .collect();
    assert!(statuses.contains(&429), "{statuses:?}");
}

/// The grinder article: what it says throughout, then a section that changed.
const GRINDER: &str = "---
title: Grinder settings
description: Choose the grind size and keep the burrs of your Brightbox Grinder clean.
---

Set the grind size with the dial on top of the grinder: finer for espresso, coarser for a
cafetière. Clean the burr every month with the brush in the box.
";
/// Its last section as it was (committed 60 days ago), and as it is (2 days ago): the
/// filter's name added, descaling moved out.
const GRINDER_OLD: &str = "## Descale the grinder

Descale the grinder every three months with the descaling tablets from the shop.
";
const GRINDER_NEW: &str = "## The Zorblatt filter

The Zorblatt filter under the hopper keeps chaff out of the grinder: rinse it every week.
";

/// Issue 16: advice about an article's words says whether the article had them when readers
/// searched (its git history) and has them now. A real repository, with dated commits.
fn advice_says_what_the_article_was_when_readers_searched(backend: Backend) {
    use kb::metrics::{Event, Search, Source};
    let dir = Dir::new().on(backend);
    let articles = dir.articles();
    let path = "en/brew/grinder-settings.md";
    dir.write(path, format!("{GRINDER}\n{GRINDER_OLD}"));
    dir.write(
        "en/billing/invoices.md",
        "---\ntitle: Understand your invoice\n---\n\nEach line of the invoice is a box, its delivery and any credit used.\n",
    );
    let now = kb::metrics::now();
    let commit = |message: &str, days_ago: i64| {
        let date = format!("@{} +0000", (now - days_ago * history::DAY) / 1000);
        let mut cmd = history::writer_git(&articles);
        cmd.env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date);
        history::run_git(cmd, &["commit", "-qam", message]);
    };
    history::run_git(
        history::writer_git(&articles),
        &["init", "-q", "-b", "main"],
    );
    history::run_git(history::writer_git(&articles), &["add", "."]);
    commit("Grinder settings", 60);
    dir.write(path, format!("{GRINDER}\n{GRINDER_NEW}"));
    commit(
        "Grinder: the Zorblatt filter; descaling has its own article",
        2,
    );
    let changed = kb::report::date(now - 2 * history::DAY);

    // Six readers each, over the weeks before the last commit, see the article first and
    // do not open it.
    let mut events = Vec::new();
    for (n, query) in [
        "zorblatt grinder",
        "burr grinder",
        "descale grinder",
        "warranty grinder",
    ]
    .iter()
    .enumerate()
    {
        for i in 0..6 {
            events.push(Event::Search(Search {
                id: format!("s{n}{i:029}"),
                at: now - (25 - 3 * i as i64) * history::DAY,
                visitor: Some(format!("reader-{n}-{i}")),
                query: query.to_string(),
                normalized: kb::search::normalize_query(query),
                lang: None,
                total: 1,
                source: Source::Customer,
                results: vec![path.to_string()],
                partial: false,
                ui: Some("en".into()),
            }));
        }
    }
    dir.store().append(&events).unwrap();

    let out = dir.run(&["report", "--format", "json"]);
    out.assert_ok();
    let r: Value = serde_json::from_str(&out.stdout).unwrap();
    let md = dir.run(&["report"]);
    md.assert_ok();
    let html = dir.run(&["report", "--format", "html"]);
    html.assert_ok();
    let csv = dir.run(&["report", "--format", "csv"]);
    csv.assert_ok();
    for (query, advice, then, said) in [
        // Has the word now, but gained it after these searches.
        (
            "zorblatt grinder",
            "retitle",
            serde_json::json!({"state": "added_since", "changed": changed}),
            format!(
                "(it has had these words only since {changed}: searches before then could not find them there)"
            ),
        ),
        // Had it all along.
        (
            "burr grinder",
            "retitle",
            serde_json::json!({"state": "had_then_and_now"}),
            "(it had these words when readers searched, and has them now)".to_string(),
        ),
        // Had it when readers searched, lost it since.
        (
            "descale grinder",
            "add_words",
            serde_json::json!({"state": "removed_since", "changed": changed}),
            format!("(it had these words when readers searched, and lost them on {changed})"),
        ),
        // Never had it.
        (
            "warranty grinder",
            "add_words",
            serde_json::json!({"state": "missing_then_and_now"}),
            "(it lacked these words when readers searched, and lacks them now)".to_string(),
        ),
    ] {
        let item = r["to_write"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["query"] == query)
            .unwrap_or_else(|| panic!("{query}: {r:#}"));
        assert_eq!(item["advice"], advice, "{item:#}");
        assert_eq!(item["then"], then, "{item:#}");
        assert!(
            item["action"].as_str().unwrap().ends_with(&said),
            "{item:#}"
        );
        // Said in words, in every format, on the line of its need.
        let line = md
            .stdout
            .lines()
            .find(|l| {
                l.contains(&format!("searching “{query}”"))
                    || l.contains(&format!("rest of “{query}”"))
            })
            .unwrap_or_else(|| panic!("{query}: {}", md.stdout));
        assert!(line.contains(&said), "{line}");
        assert!(html.stdout.contains(&said), "{query}: {}", html.stdout);
        assert!(csv.stdout.contains(&said), "{query}: {}", csv.stdout);
    }
    let uk = dir.run(&["report", "--lang", "uk"]);
    uk.assert_ok();
    assert!(
        uk.stdout.contains(&format!(
            "(ці слова є в ній лише з {changed}: пошуки до того"
        )),
        "{}",
        uk.stdout
    );
}
