//! Stemming: English (Snowball Porter2) for Latin words, Ukrainian (Snowball) for Cyrillic ones.
//!
//! The script of the word, not the language of the article, picks the stemmer, so a query
//! needs no language to be analyzed exactly like the text it should find. Both stemmers come
//! from frostem 2, the generated Snowball stemmers (tantivy's own set has no Ukrainian).

use std::borrow::Cow;
use std::sync::LazyLock;

use frostem::{Algorithm, Stemmer};

use super::normalize::WordScript;

static ENGLISH: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::new(Algorithm::English));
static UKRAINIAN: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::new(Algorithm::Ukrainian));

/// Stems a normalized word; words with digits or fewer than three letters stay as they are.
pub fn stem(word: &str, script: WordScript) -> Cow<'_, str> {
    let stemmer = match script {
        WordScript::Latin => &*ENGLISH,
        WordScript::Cyrillic => &*UKRAINIAN,
        WordScript::Other => return Cow::Borrowed(word),
    };
    if word.chars().nth(2).is_none()
        || !word
            .chars()
            .all(|c| super::script::is_alphabetic(c) || c == '\'')
    {
        return Cow::Borrowed(word);
    }
    let stemmed = stemmer.stem(word);
    if stemmed.is_empty() {
        Cow::Borrowed(word)
    } else {
        stemmed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english() {
        assert_eq!(stem("connections", WordScript::Latin), "connect");
        assert_eq!(stem("configuring", WordScript::Latin), "configur");
        assert_eq!(stem("v1beta1", WordScript::Latin), "v1beta1");
    }

    #[test]
    fn ukrainian_help_center_vocabulary() {
        for (forms, _) in [
            (
                &["пароль", "пароля", "паролем", "паролі", "паролів"][..],
                "парол",
            ),
            (
                &["налаштування", "налаштувань", "налаштуваннях"][..],
                "налашт",
            ),
            (&["підписка", "підписки", "підпискою"][..], "підписк"),
            (&["рахунок", "рахунку", "рахунки"][..], "рахунк"),
        ] {
            let stems: Vec<_> = forms
                .iter()
                .map(|w| stem(w, WordScript::Cyrillic).into_owned())
                .collect();
            assert!(stems.iter().all(|s| s == &stems[0]), "{stems:?}");
        }
    }
}
