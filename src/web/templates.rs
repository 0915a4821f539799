//! Page templates: files in the templates folder, with the default set built into the binary.
//!
//! A team restyles its help center by editing (or adding) files in `--templates DIR`: a file
//! there wins over the built-in template of the same name, and is re-read when it changes
//! (minijinja checks its modification time on each use). A template that fails to render
//! falls back to the built-in one, with the error logged, so a typo in a custom template never
//! takes the help center down.

use std::path::PathBuf;

use minijinja::Environment;
use serde::Serialize;

/// The built-in templates.
const DEFAULTS: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/base.html")),
    ("article.html", include_str!("../../templates/article.html")),
    (
        "not_found.html",
        include_str!("../../templates/not_found.html"),
    ),
];

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
    /// Templates from `dir` (when given and present), else the built-in ones.
    pub fn new(dir: Option<PathBuf>) -> Self {
        let mut env = Environment::new();
        env.set_fuel(Some(FUEL));
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
        Templates {
            env,
            builtin: builtin_env,
        }
    }

    /// Renders a page, falling back to the built-in template if the custom one fails.
    pub fn render(&self, name: &str, ctx: impl Serialize) -> Result<String, minijinja::Error> {
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

    #[test]
    fn built_in_templates_render_and_escape() {
        let t = Templates::new(None);
        let html = t
            .render(
                "article.html",
                serde_json::json!({"lang": "en", "article": {"title": "A <b>", "html": "<p>ok</p>"}}),
            )
            .unwrap();
        assert!(html.contains("<h1>A &lt;b&gt;</h1>"), "{html}");
        assert!(html.contains("<p>ok</p>"));
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
        let t = Templates::new(Some(dir.path().to_path_buf()));
        let html = t
            .render("not_found.html", serde_json::json!({"path": "<x>"}))
            .unwrap();
        assert_eq!(html, "custom 404 for &lt;x&gt;");
        let html = t
            .render(
                "article.html",
                serde_json::json!({"article": {"title": "T", "html": ""}}),
            )
            .unwrap();
        assert!(html.contains("<h1>T</h1>"), "{html}");
    }
}
