//! The report in words, in the reader's language: headings, why each item is listed and what
//! to do about it.
//!
//! The texts are the `[report]` section of `templates/locales/<tag>.toml`, beside the site's
//! interface ([`crate::i18n`]): a language lacking a text falls back to English, `{name}`
//! placeholders are filled here, and a text about a count takes the plural form the language
//! asks for (`key_one`, `key_few`, `key_many`, else `key`). Quotation marks and list
//! separators are the language's own texts too (`report.quote`, `report.separator`). What
//! readers typed and article titles stay as they are; each format escapes them.

use std::sync::Arc;

use super::{
    Advice, Change, Finding, Report, UpdateItem, UpdateKind, WordsThen, WriteItem, WriteKind,
};
use crate::i18n::{self, Locales};
use crate::metrics::{FlagReason, Reason};

/// The report's words in one language.
#[derive(Clone)]
pub struct Words {
    locales: Arc<Locales>,
    lang: String,
}

impl Words {
    /// The words of the locale that best matches `lang` (English when none does).
    pub fn new(locales: Arc<Locales>, lang: &str) -> Words {
        let lang = locales.best(lang);
        Words { locales, lang }
    }

    /// The built-in texts in English.
    pub fn english() -> Words {
        Words::new(i18n::built_in(), i18n::DEFAULT)
    }

    /// The language tag of the locale used.
    pub fn lang(&self) -> &str {
        &self.lang
    }

    /// `report.{key}`, with `args` filled in; the key itself when no locale has it.
    pub fn t(&self, key: &str, args: &[(&str, String)]) -> String {
        let key = format!("report.{key}");
        match self.locales.text(&self.lang, &key) {
            Some(text) => i18n::fill(text, args),
            None => key,
        }
    }

    /// `report.{key}` in the plural form for `count` (also given as `{count}`).
    pub fn n(&self, key: &str, count: u64, args: &[(&str, String)]) -> String {
        let key = format!("report.{key}");
        let Some(text) = self.locales.plural(&self.lang, &key, count) else {
            return key;
        };
        let mut all = vec![("count", count.to_string())];
        all.extend(args.iter().cloned());
        i18n::fill(text, &all)
    }

    /// Why an AI agent's question is in the report: how often it was asked, what it got.
    pub fn ai_why(&self, q: &super::ai::AiQuestion) -> String {
        match q.gap {
            super::ai::AiGap::NothingFound => self.n("ai_nothing_found", q.count, &[]),
            super::ai::AiGap::OnlyWeak => self.n(
                "ai_only_weak",
                q.count,
                &[("path", q.best.clone().unwrap_or_default())],
            ),
        }
    }

    /// Text in the language's quotation marks.
    pub fn quote(&self, text: &str) -> String {
        self.t("quote", &[("text", text.to_string())])
    }

    /// Items joined with the language's list separator.
    pub fn list(&self, items: impl IntoIterator<Item = String>) -> String {
        items
            .into_iter()
            .collect::<Vec<_>>()
            .join(&self.t("separator", &[]))
    }

    /// Quoted words, as a list.
    fn quoted(&self, words: &[String]) -> String {
        self.list(words.iter().map(|w| self.quote(w)))
    }

    /// A change on the period before: `new` in the reader's language, figures as they are.
    pub fn change(&self, change: Change) -> String {
        match change {
            Change::New => self.t("new", &[]),
            other => other.to_string(),
        }
    }

    pub fn write_heading(&self, kind: WriteKind) -> String {
        self.t(&format!("kind.{}", kind.name()), &[])
    }

    pub fn update_heading(&self, kind: UpdateKind) -> String {
        self.t(&format!("kind.{}", kind.name()), &[])
    }

    /// A reason readers gave for a No vote.
    pub fn reason(&self, reason: Reason) -> String {
        self.t(&format!("reason.{}", reason.as_str()), &[])
    }

    /// A reason agents gave for a flag.
    pub fn flag_reason(&self, reason: FlagReason) -> String {
        self.t(&format!("flag.{}", reason.as_str()), &[])
    }

    /// What an empty to-write list means.
    pub fn nothing_to_write(&self, r: &Report) -> String {
        if r.summary.searches == 0 {
            self.t("no_searches", &[])
        } else {
            self.t("nothing_to_write", &[])
        }
    }

    /// Why a need is listed.
    pub fn write_why(&self, w: &WriteItem) -> String {
        let article = w.closest.first();
        let lang = w.languages.first().cloned().unwrap_or_default();
        let langs = if w.languages.is_empty() {
            String::new()
        } else {
            self.t(
                "why.in_languages",
                &[("languages", self.list(w.languages.iter().cloned()))],
            )
        };
        let failed = match w.kind {
            WriteKind::NoResults => w.no_results,
            WriteKind::NoClicks => w.no_clicks,
            WriteKind::Translation => w.searches,
        };
        let contacts = if w.contacts > 0 {
            self.n("why.contacts", w.contacts, &[])
        } else {
            String::new()
        };
        let args = [
            ("searches", w.searches.to_string()),
            ("people", w.visitors.max(1).to_string()),
            ("query", w.query.clone()),
            ("languages", langs),
            ("contacts", contacts),
            ("lang", lang),
            ("failed", failed.to_string()),
            (
                "title",
                article.map(|a| a.title.clone()).unwrap_or_default(),
            ),
            (
                "article_lang",
                article.map(|a| a.lang.clone()).unwrap_or_default(),
            ),
        ];
        // Not every search of a need failed the same way: say how many did, so that the
        // sentence and the tables agree.
        let some = if failed < w.searches { "_some" } else { "" };
        self.t(&format!("why.{}{some}", w.kind.name()), &args)
    }

    /// What to do about a need, and, for advice about an article's words, whether it had
    /// them when readers searched and has them now.
    pub fn write_action(&self, w: &WriteItem) -> String {
        let action = self.advice_action(w);
        match w.then {
            None => action,
            Some(then) => {
                let (key, changed) = match then {
                    WordsThen::HadThenAndNow => ("had_then_and_now", None),
                    WordsThen::AddedSince { changed } => ("added_since", Some(changed)),
                    WordsThen::MissingThenAndNow => ("missing_then_and_now", None),
                    WordsThen::RemovedSince { changed } => ("removed_since", Some(changed)),
                };
                let date = changed.map(|d| d.to_string()).unwrap_or_default();
                action + &self.t(&format!("then.{key}"), &[("date", date)])
            }
        }
    }

    fn advice_action(&self, w: &WriteItem) -> String {
        let best = w.closest.first();
        let of_best = |f: fn(&super::Closest) -> &String| best.map(f).cloned().unwrap_or_default();
        let mut args = vec![
            ("query", w.query.clone()),
            ("title", of_best(|c| &c.title)),
            ("path", of_best(|c| &c.path)),
            ("article_lang", of_best(|c| &c.lang)),
            ("lang", w.languages.first().cloned().unwrap_or_default()),
        ];
        match w.advice {
            Advice::Write => self.t("action.write", &args),
            Advice::WriteUncovered => {
                let has = best.map(|c| c.has.as_slice()).unwrap_or_default();
                let words = if has.is_empty() {
                    self.t("action.other_words", &[])
                } else {
                    self.quoted(has)
                };
                args.push(("words", words));
                self.t("action.write_uncovered", &args)
            }
            Advice::AddWords => {
                let missing = best.map(|c| c.missing.as_slice()).unwrap_or_default();
                args.push(("words", self.quoted(missing)));
                self.n("action.add_words", missing.len() as u64, &args)
            }
            Advice::Retitle => self.t("action.retitle", &args),
            Advice::Translate if w.kind == WriteKind::Translation => {
                self.t("action.translate", &args)
            }
            Advice::Translate => self.t("action.translate_found", &args),
            Advice::AddWordsToTranslation => {
                let missing = best.map(|c| c.missing.as_slice()).unwrap_or_default();
                args.push(("words", self.quoted(missing)));
                let original = w.closest.get(1).map(|c| c.lang.clone()).unwrap_or_default();
                args.push(("original_lang", original));
                self.t("action.add_words_translation", &args)
            }
        }
    }

    /// What agents' flags on an article say: each reason, with how often when more than once.
    fn flags_said(&self, u: &UpdateItem) -> String {
        let mut by_reason: std::collections::BTreeMap<FlagReason, u64> = Default::default();
        for f in &u.flags {
            *by_reason.entry(f.reason).or_default() += 1;
        }
        self.list(by_reason.into_iter().map(|(reason, n)| {
            if n == 1 {
                self.flag_reason(reason)
            } else {
                self.t(
                    "why.flag_count",
                    &[
                        ("reason", self.flag_reason(reason)),
                        ("count", n.to_string()),
                    ],
                )
            }
        }))
    }

    /// Why an article is listed; `days` is the report's period.
    pub fn update_why(&self, u: &UpdateItem, days: i64) -> String {
        let votes = u.yes + u.no;
        let outdated = u.reasons.get(&Reason::Outdated).copied().unwrap_or(0);
        let mut args = vec![
            ("votes", votes.to_string()),
            ("no", u.no.to_string()),
            ("views", u.views.to_string()),
            ("contacts", u.contacts.to_string()),
            ("days", days.to_string()),
            ("outdated", outdated.to_string()),
            (
                "changed",
                u.last_change.map(|d| d.to_string()).unwrap_or_default(),
            ),
        ];
        match &u.finding {
            Finding::Flagged => {
                args.push(("said", self.flags_said(u)));
                self.n("why.flagged", u.flags.len() as u64, &args)
            }
            Finding::Outdated { .. } => self.t("why.outdated", &args),
            Finding::Unhelpful { unhelpful_at_least } => {
                let reasons = if u.reasons.is_empty() {
                    String::new()
                } else {
                    let list = self.list(u.reasons.iter().map(|(r, n)| {
                        self.t(
                            "why.reason_count",
                            &[("reason", self.reason(*r)), ("count", n.to_string())],
                        )
                    }));
                    self.t("why.reasons", &[("reasons", list)])
                };
                args.push(("percent", format!("{:.0}", unhelpful_at_least * 100.0)));
                args.push(("reasons", reasons));
                self.t("why.unhelpful", &args)
            }
            Finding::ContactAfterView { site_contact_rate } => {
                let rate = if u.views == 0 {
                    0.0
                } else {
                    u.contacts as f64 / u.views as f64
                };
                args.push(("rate", format!("{:.0}", rate * 100.0)));
                args.push(("site_rate", format!("{:.0}", site_contact_rate * 100.0)));
                self.t("why.contact_after_view", &args)
            }
            Finding::Stale { age_days } => {
                args.push(("age", age_days.to_string()));
                self.t("why.stale", &args)
            }
            Finding::Unread { previous_views: 0 } => self.t("why.unread", &args),
            Finding::Unread { previous_views } => {
                self.n("why.unread_before", *previous_views, &args)
            }
            Finding::Unfound => self.n("why.unfound", u.views, &args),
            Finding::ReviewDue {
                every_days,
                reviewed,
                due,
            } => {
                args.push(("every", every_days.to_string()));
                args.push(("reviewed", reviewed.to_string()));
                args.push(("due", due.to_string()));
                self.t("why.review_due", &args)
            }
            Finding::TranslationBehind {
                source_lang,
                source_changed,
                ..
            } => {
                args.push(("source_lang", source_lang.clone()));
                args.push(("source_changed", source_changed.to_string()));
                self.t("why.translation_behind", &args)
            }
        }
    }

    /// What to do about an article.
    pub fn update_action(&self, u: &UpdateItem) -> String {
        let votes = u.yes + u.no;
        let outdated = u.reasons.get(&Reason::Outdated).copied().unwrap_or(0);
        let mut args = vec![
            ("title", u.title.clone()),
            ("path", u.path.clone()),
            ("lang", u.lang.clone()),
            ("votes", votes.to_string()),
            ("outdated", outdated.to_string()),
            (
                "owner",
                u.owner.clone().unwrap_or_else(|| self.t("no_owner", &[])),
            ),
        ];
        match &u.finding {
            Finding::Flagged => {
                let notes: Vec<String> = u
                    .flags
                    .iter()
                    .filter_map(|f| f.note.as_deref().map(|n| self.quote(n)))
                    .take(3)
                    .collect();
                if notes.is_empty() {
                    args.push(("said", self.flags_said(u)));
                    self.t("action.flagged", &args)
                } else {
                    args.push(("notes", notes.join(&self.t("action.notes_separator", &[]))));
                    self.t("action.flagged_notes", &args)
                }
            }
            Finding::Outdated { .. } => self.t("action.outdated", &args),
            Finding::Unhelpful { .. } => self.t("action.unhelpful", &args),
            Finding::ContactAfterView { .. } => self.t("action.contact_after_view", &args),
            Finding::Stale { .. } => self.t("action.stale", &args),
            Finding::Unread { .. } => self.t("action.unread", &args),
            Finding::Unfound => self.t("action.unfound", &args),
            Finding::ReviewDue { .. } => self.t("action.review_due", &args),
            Finding::TranslationBehind {
                source,
                source_title,
                ..
            } => {
                args[0].1 = source_title.clone();
                args[1].1 = source.clone();
                self.t("action.translation_behind", &args)
            }
        }
    }

    /// An owner of articles due for review (`""`: none).
    pub fn owner(&self, owner: &str) -> String {
        if owner.is_empty() {
            self.t("no_owner", &[])
        } else {
            owner.to_string()
        }
    }
}

/// A share as a percentage with one decimal: `12.3%`.
pub fn pct(rate: f64) -> String {
    format!("{:.1}%", rate * 100.0)
}
