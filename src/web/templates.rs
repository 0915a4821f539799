//! Page templates: files in the templates folder, with the default set built into the binary.
//!
//! A team restyles its help center by editing (or adding) files in `--templates DIR`: a file
//! there wins over the built-in template of the same name, and is re-read when it changes
//! (minijinja checks its modification time on each use). A template that fails to render
//! falls back to the built-in one, with the error logged, so a typo in a custom template never
//! takes the help center down.

use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::Arc;

use minijinja::value::Kwargs;
use minijinja::{Environment, Error, ErrorKind};
use serde::Serialize;

use super::i18n::{self, Locales};

/// The built-in templates.
const DEFAULTS: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/base.html")),
    (
        "search_form.html",
        include_str!("../../templates/search_form.html"),
    ),
    ("home.html", include_str!("../../templates/home.html")),
    (
        "category.html",
        include_str!("../../templates/category.html"),
    ),
    ("search.html", include_str!("../../templates/search.html")),
    ("article.html", include_str!("../../templates/article.html")),
    ("agent.html", include_str!("../../templates/agent.html")),
    (
        "admin_login.html",
        include_str!("../../templates/admin_login.html"),
    ),
    (
        "not_found.html",
        include_str!("../../templates/not_found.html"),
    ),
];

thread_local! {
    /// The interface language of the page being rendered on this thread: `t()` reads it,
    /// in macros imported from other templates too.
    static UI: RefCell<String> = RefCell::new(i18n::DEFAULT.to_string());
}

/// `t("section.key", name=value)`: the interface text in the page's language.
fn translate(locales: &Locales, key: &str, kwargs: Kwargs) -> Result<String, Error> {
    let text = UI.with(|ui| locales.text(&ui.borrow(), key).map(str::to_string));
    let Some(text) = text else {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("no interface text {key:?} in the locales"),
        ));
    };
    let mut args = Vec::new();
    for name in kwargs.args() {
        let value: minijinja::Value = kwargs.get(name)?;
        args.push((name, value.to_string()));
    }
    Ok(i18n::fill(&text, &args))
}

/// Instructions a template may run per page: a runaway loop in a custom template stops here.
const FUEL: u64 = 5_000_000;

pub struct Templates {
    env: Environment<'static>,
    builtin: Environment<'static>,
}

fn builtin(name: &str) -> Option<String> {
    DEFAULTS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, src)| src.to_string())
}

impl Templates {
    /// Templates from `dir` (when given and present), else the built-in ones; `t()` uses
    /// `locales`.
    pub fn new(dir: Option<PathBuf>, locales: Arc<Locales>) -> Self {
        let mut env = Environment::new();
        env.set_fuel(Some(FUEL));
        let l = locales.clone();
        env.add_function("t", move |key: &str, kwargs: Kwargs| {
            translate(&l, key, kwargs)
        });
        let files = dir.filter(|d| d.is_dir()).map(minijinja::path_loader);
        env.set_loader(move |name| {
            if let Some(load) = &files
                && let Some(source) = load(name)?
            {
                return Ok(Some(source));
            }
            Ok(builtin(name).map(Into::into))
        });
        let mut builtin_env = Environment::new();
        builtin_env.set_fuel(Some(FUEL));
        builtin_env.set_loader(|name| Ok(builtin(name)));
        builtin_env.add_function("t", move |key: &str, kwargs: Kwargs| {
            translate(&locales, key, kwargs)
        });
        Templates {
            env,
            builtin: builtin_env,
        }
    }

    /// Renders a page in the interface language `ui`, falling back to the built-in template
    /// if the custom one fails.
    pub fn render(&self, name: &str, ui: &str, ctx: impl Serialize) -> Result<String, Error> {
        UI.with(|u| *u.borrow_mut() = ui.to_string());
        let ctx = minijinja::Value::from(minijinja::value::Serde(ctx));
        match self.env.get_template(name).and_then(|t| t.render(&ctx)) {
            Ok(html) => Ok(html),
            Err(e) => {
                tracing::error!("template {name}: {e:#}; using the built-in one");
                self.builtin.get_template(name)?.render(&ctx)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> serde_json::Value {
        serde_json::json!({
            "ui": "uk", "html_lang": "uk", "site_name": "Help", "home_url": "/uk/",
            "assets": {"css": "/static/kb.css", "js": "/static/kb.js", "icon": "/static/favicon.svg"},
            "languages": [], "search": {"q": "", "lang_options": []},
        })
    }

    #[test]
    fn built_in_templates_render_in_the_page_language() {
        let t = Templates::new(None, Arc::new(Locales::load(None).0));
        let html = t
            .render(
                "not_found.html",
                "uk",
                serde_json::json!({"page": page(), "path": "<x>"}),
            )
            .unwrap();
        assert!(html.contains("lang=\"uk\""), "{html}");
        // Interface texts in the page's language, in imported macros too.
        let uk = Locales::load(None).0;
        assert!(
            html.contains(uk.text("uk", "not_found.title").unwrap()),
            "{html}"
        );
        assert!(
            html.contains(uk.text("uk", "search.button").unwrap()),
            "{html}"
        );
    }

    #[test]
    fn custom_templates_win_and_broken_ones_fall_back() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("not_found.html"),
            "custom 404 for {{ path }}",
        )
        .unwrap();
        std::fs::write(dir.path().join("article.html"), "{% if %}broken").unwrap();
        let t = Templates::new(
            Some(dir.path().to_path_buf()),
            Arc::new(Locales::load(None).0),
        );
        let html = t
            .render("not_found.html", "en", serde_json::json!({"path": "<x>"}))
            .unwrap();
        assert_eq!(html, "custom 404 for &lt;x&gt;");
        let html = t
            .render(
                "article.html",
                "en",
                serde_json::json!({
                    "page": page(),
                    "article": {"title": "T", "html": ""},
                    "feedback": {"vote_id": "0123456789abcdef0123456789abcdef", "step": "ask"},
                }),
            )
            .unwrap();
        assert!(html.contains("<h1>T</h1>"), "{html}");
    }
}
