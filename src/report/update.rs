//! The rules of the "to update" list: one function per way an article fails its readers,
//! each returning a typed [`Finding`] (or nothing) for one article.

use std::collections::HashMap;

use super::facts::{ArticleFacts, Facts};
use super::{ArticleInfo, Context, Date, Finding, FlagNote, UpdateItem, wilson_lower};
use super::{
    CONTACT_MIN_VIEWS, CONTACT_RATE, MIN_VOTES, OUTDATED_MIN, OUTDATED_SHARE, STALE_DAYS,
    STALE_MIN_VIEWS, UNFOUND_MIN_VIEWS, UNHELPFUL_FROM,
};
use crate::metrics::{DAY, Millis, Reason};

/// What the article rules share: the period's facts, the moment of the report, the help
/// center's contact rate and the article each translation group started from.
struct Setting<'a> {
    facts: &'a Facts,
    now: Millis,
    /// Views followed by a contact click, across the help center.
    site_contact_rate: f64,
    source_lang: Option<String>,
    sources: HashMap<&'a str, &'a ArticleInfo>,
}

/// A rule: what, if anything, is wrong with an article, and how pressing it is (items of a
/// kind are listed most pressing first).
type Rule = fn(&ArticleInfo, &ArticleFacts, &Setting<'_>) -> Option<(Finding, f64)>;

/// Every published article's findings.
pub(super) fn articles_to_update(facts: &Facts, ctx: &Context<'_>) -> Vec<UpdateItem> {
    let site_contact_rate = {
        let (c, v) = facts.articles.values().fold((0u64, 0u64), |(c, v), a| {
            (c + a.contacts_after, v + a.views)
        });
        if v == 0 { 0.0 } else { c as f64 / v as f64 }
    };
    let source_lang = ctx.source_language();
    let sources: HashMap<&str, &ArticleInfo> = ctx
        .articles
        .iter()
        .filter(|s| !s.draft && Some(&s.lang) == source_lang.as_ref())
        .map(|s| (s.translation.as_str(), s))
        .collect();
    let setting = Setting {
        facts,
        now: ctx.now,
        site_contact_rate,
        source_lang,
        sources,
    };
    let rules: [Rule; 8] = [
        flagged,
        verdict,
        contact_after_view,
        stale,
        unread,
        unfound,
        review_due,
        translation_behind,
    ];
    let empty = ArticleFacts::default();
    let mut out = Vec::new();
    for a in ctx.articles.iter().filter(|a| !a.draft) {
        if ctx.cancel.is_cancelled() {
            break;
        }
        let f = facts.articles.get(&a.path).unwrap_or(&empty);
        for rule in rules {
            if let Some((finding, priority)) = rule(a, f, &setting) {
                out.push(item(a, f, finding, priority));
            }
        }
    }
    out
}

/// An item for article `a`, with what readers did with it.
fn item(a: &ArticleInfo, f: &ArticleFacts, finding: Finding, priority: f64) -> UpdateItem {
    UpdateItem {
        finding,
        path: a.path.clone(),
        title: a.title.clone(),
        url: a.url.clone(),
        lang: a.lang.clone(),
        owner: a.owner.clone(),
        views: f.views,
        yes: f.yes,
        no: f.no,
        reasons: f.reasons.clone(),
        comments: f.comments.iter().map(|(_, c)| c.clone()).collect(),
        flags: f
            .flags
            .iter()
            .map(|flag| FlagNote {
                date: Date::of(flag.at),
                reason: flag.reason,
                note: flag.note.clone(),
            })
            .collect(),
        contacts: f.contacts_after,
        last_change: a.last_change.map(Date::of),
        priority,
    }
}

/// Agents flagged it since it last changed: first on the list, most flagged first.
fn flagged(_: &ArticleInfo, f: &ArticleFacts, _: &Setting<'_>) -> Option<(Finding, f64)> {
    (!f.flags.is_empty()).then_some((Finding::Flagged, f.flags.len() as f64))
}

/// Enough votes to judge: "outdated" said by three readers and 40 % of the votes, else
/// unhelpful when, with 95 % confidence, at least a quarter said No. "Outdated" asks for a
/// review, a more precise task than a rewrite: an article that is both is listed once.
fn verdict(_: &ArticleInfo, f: &ArticleFacts, _: &Setting<'_>) -> Option<(Finding, f64)> {
    let votes = f.yes + f.no;
    if votes < MIN_VOTES {
        return None;
    }
    let low = wilson_lower(f.no, votes);
    let unhelpful_at_least = (low * 1000.0).round() / 1000.0;
    let outdated = f.reasons.get(&Reason::Outdated).copied().unwrap_or(0);
    if outdated >= OUTDATED_MIN && outdated as f64 >= OUTDATED_SHARE * votes as f64 {
        let priority = outdated as f64 / votes as f64 + outdated as f64 / 1000.0;
        Some((Finding::Outdated { unhelpful_at_least }, priority))
    } else if low >= UNHELPFUL_FROM {
        Some((Finding::Unhelpful { unhelpful_at_least }, low))
    } else {
        None
    }
}

/// Readers contact support after reading it: with 95 % confidence over 10 % of them, and
/// twice the help center's rate.
fn contact_after_view(
    _: &ArticleInfo,
    f: &ArticleFacts,
    s: &Setting<'_>,
) -> Option<(Finding, f64)> {
    if f.views < CONTACT_MIN_VIEWS {
        return None;
    }
    let rate = f.contacts_after as f64 / f.views as f64;
    (wilson_lower(f.contacts_after, f.views) >= CONTACT_RATE && rate >= 2.0 * s.site_contact_rate)
        .then(|| {
            (
                Finding::ContactAfterView {
                    site_contact_rate: s.site_contact_rate,
                },
                rate * (f.views as f64).ln(),
            )
        })
}

/// Unchanged for a year and still read.
fn stale(a: &ArticleInfo, f: &ArticleFacts, s: &Setting<'_>) -> Option<(Finding, f64)> {
    let age_days = (s.now - a.last_change?) / DAY;
    (age_days >= STALE_DAYS && f.views >= STALE_MIN_VIEWS).then_some((
        Finding::Stale { age_days },
        f.views as f64 * age_days as f64,
    ))
}

/// Nobody read it in the period. An article git added during the period has not had the
/// period to be read; a help center without a single view in it was not running.
fn unread(a: &ArticleInfo, f: &ArticleFacts, s: &Setting<'_>) -> Option<(Finding, f64)> {
    let read_before = a.added.is_none_or(|t| t < s.facts.since);
    (f.views == 0 && s.facts.totals.views > 0 && read_before).then(|| {
        (
            Finding::Unread {
                previous_views: f.previous_views,
            },
            f.previous_views as f64 + a.added.map_or(0.0, |t| (s.facts.since - t) as f64 / 1e12),
        )
    })
}

/// Read, but never shown near the top of a customer's search of the period nor opened from
/// one (when searches' results are known at all): it is reached only through links.
fn unfound(_: &ArticleInfo, f: &ArticleFacts, s: &Setting<'_>) -> Option<(Finding, f64)> {
    (f.views >= UNFOUND_MIN_VIEWS && f.shown == 0 && s.facts.totals.listed > 0)
        .then_some((Finding::Unfound, f.views as f64))
}

/// Its review fell due: front matter `review_every`, counted from `updated`, else the last
/// change.
fn review_due(a: &ArticleInfo, _: &ArticleFacts, s: &Setting<'_>) -> Option<(Finding, f64)> {
    let (every_days, from) = (a.review_every_days?, a.reviewed?);
    let due = from + i64::from(every_days) * DAY;
    (due <= s.now).then(|| {
        (
            Finding::ReviewDue {
                every_days,
                reviewed: Date::of(from),
                due: Date::of(due),
            },
            (s.now - due) as f64,
        )
    })
}

/// A translation whose source (the article of its group in the source language) changed at
/// least a day after it.
fn translation_behind(
    a: &ArticleInfo,
    _: &ArticleFacts,
    s: &Setting<'_>,
) -> Option<(Finding, f64)> {
    let (source_lang, changed) = (s.source_lang.as_ref()?, a.last_change?);
    if a.lang == *source_lang {
        return None;
    }
    let source = s.sources.get(a.translation.as_str())?;
    let source_changed = source.last_change?;
    (source_changed - changed >= DAY).then(|| {
        (
            Finding::TranslationBehind {
                source: source.path.clone(),
                source_title: source.title.clone(),
                source_lang: source_lang.clone(),
                source_changed: Date::of(source_changed),
            },
            (source_changed - changed) as f64,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::{article, ctx};
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn outdated_wins_over_unhelpful_and_few_votes_are_no_verdict() {
        let articles = [article("en/a.md", "en", 0), article("en/b.md", "en", 0)];
        let mut facts = Facts {
            since: 0,
            until: 30 * DAY,
            ..Facts::default()
        };
        facts.articles.insert(
            "en/a.md".into(),
            ArticleFacts {
                yes: 2,
                no: 7,
                reasons: BTreeMap::from([(Reason::Outdated, 7)]),
                ..ArticleFacts::default()
            },
        );
        facts.articles.insert(
            "en/b.md".into(),
            ArticleFacts {
                no: 2,
                ..ArticleFacts::default()
            },
        );
        let none = |_: &str, _: Option<&str>| Vec::new();
        let items = articles_to_update(&facts, &ctx(&articles, &none, 30 * DAY));
        let kinds: Vec<(&str, super::super::UpdateKind)> =
            items.iter().map(|i| (i.path.as_str(), i.kind())).collect();
        assert_eq!(kinds, [("en/a.md", super::super::UpdateKind::Outdated)]);
    }
}
