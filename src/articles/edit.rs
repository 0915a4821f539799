//! "Edit this page": where a writer edits an article's source, from an address template
//! with `{path}` in it (as Docusaurus' `editUrl`), such as
//! `https://github.com/acme/help/edit/main/articles/{path}`.

/// An address template for editing articles; `{path}` stands for the article's path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditUrl {
    template: String,
}

impl EditUrl {
    /// Checks a template: an `http://` or `https://` address holding `{path}`.
    pub fn parse(template: &str) -> Result<EditUrl, String> {
        let template = template.trim();
        let web = ["http://", "https://"]
            .iter()
            .any(|s| template.len() > s.len() && template[..s.len()].eq_ignore_ascii_case(s));
        if !web || !template.contains("{path}") {
            return Err(format!(
                "--edit-url must be an http:// or https:// address with {{path}} in it, such as https://github.com/acme/help/edit/main/articles/{{path}}; got {template:?}"
            ));
        }
        if template
            .chars()
            .any(|c| c.is_control() || c.is_whitespace())
        {
            return Err(format!(
                "--edit-url must not hold spaces or control characters: {template:?}"
            ));
        }
        Ok(EditUrl {
            template: template.to_string(),
        })
    }

    /// The address where the article at `path` (`en/billing/refunds.md`) is edited; each
    /// segment of the path percent-encoded, the slashes kept.
    pub fn for_path(&self, path: &str) -> String {
        let encoded: Vec<String> = path
            .split('/')
            .map(|segment| percent_encoding::utf8_percent_encode(segment, SEGMENT).to_string())
            .collect();
        self.template.replace("{path}", &encoded.join("/"))
    }
}

/// What is percent-encoded in a path segment: everything but unreserved characters.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_fill_the_template() {
        let e =
            EditUrl::parse("https://git.example/acme/help/-/edit/main/articles/{path}").unwrap();
        assert_eq!(
            e.for_path("en/billing/refunds.md"),
            "https://git.example/acme/help/-/edit/main/articles/en/billing/refunds.md"
        );
        assert_eq!(
            e.for_path("zh-cn/密码 a&b.md"),
            "https://git.example/acme/help/-/edit/main/articles/zh-cn/%E5%AF%86%E7%A0%81%20a%26b.md"
        );
        for bad in [
            "",
            "https://git.example/edit",
            "javascript:alert(1)//{path}",
            "ftp://x/{path}",
            "https://x/{path} y",
        ] {
            assert!(EditUrl::parse(bad).is_err(), "{bad}");
        }
    }
}
