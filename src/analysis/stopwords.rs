//! Function words: the words a query may leave unmatched.
//!
//! They are still indexed and scored (BM25 gives them little weight), but a document does not
//! have to contain them to count as matching "all the words" of a query: "how do I reset my
//! password" should put the article titled "Reset your password" first, not a long page that
//! happens to contain every one of those words.

use std::collections::HashSet;
use std::sync::LazyLock;

use super::{TokenKind, analyze};

const ENGLISH: &str = "a an the and or of to in on at by for from with as is are was were be been \
    being it its this that these those i me my you your we our us they their he she his her how \
    do does did can could should would will shall may might what which who whom why when where \
    there here if then so about into than also any some please";

const UKRAINIAN: &str = "і й та в у на з із зі до від для про по за що як це цей ця ці цього \
    чи або але а же ж б би ви ваш ваша ваше ваші вас вам я мене мій моя моє мої ми нас наш наша \
    він вона воно вони його її їх є бути буде який яка яке які якщо так також при під над між \
    через після перед щоб де коли чому чого мені собі свій своя своє свої";

const CHINESE: &str = "的 了 是 在 和 与 及 或 或者 我 我的 你 你的 您 您的 我们 他 她 它 他们 吗 呢 吧 啊 \
    着 把 被 从 到 对 为 这 那 这个 那个 一个 如何 怎么 怎样 怎么样 什么 为什么 哪 哪里 哪个 可以 能 \
    要 会 也 都 就 还 让 该 之 其 而 并 请";

static STOP: LazyLock<HashSet<String>> = LazyLock::new(|| {
    let mut set = HashSet::new();
    for word in [ENGLISH, UKRAINIAN]
        .iter()
        .flat_map(|list| list.split_whitespace())
    {
        analyze(word, &mut |t| {
            if t.kind == TokenKind::Word {
                set.insert(t.text);
            }
        });
    }
    // Already Simplified, whole jieba words: no need to load jieba's dictionary (about
    // 100 ms) for a query that has no Chinese in it.
    set.extend(CHINESE.split_whitespace().map(str::to_string));
    set
});

/// Whether an analyzed term (a `Word` token's text) is a function word.
pub fn is_stop_word(term: &str) -> bool {
    STOP.contains(term)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_words_in_three_languages() {
        for w in ["the", "how", "як", "для", "的", "如何"] {
            let t = crate::analysis::analyze_to_vec(w).remove(0).text;
            assert!(is_stop_word(&t), "{w}");
        }
        assert!(!is_stop_word("password"));
        assert!(!is_stop_word("密码"));
    }
}
