//! Client-supplied text that reaches a page: characters that change how the
//! text around them reads without being seen — control characters,
//! bidirectional overrides and isolates, zero-width and other invisible
//! format characters, line and paragraph separators.
//!
//! A self-declared app name such as `Photo Printer\u{202E}` reverses
//! whatever a page writes after it, and a zero-width joiner makes two names
//! that look the same compare different. The provider refuses a display
//! name holding one ([`crate::protocol::Limits`]' caps apply too); pages
//! strip them from anything else before showing it, and isolate it in
//! `<bdi>`.

use std::borrow::Cow;

/// Whether `c` is a character a page must not show from a client: a
/// control character (C0, DEL, C1), a bidirectional mark, embedding,
/// override or isolate, a zero-width or other invisible format character,
/// a line or paragraph separator, or a tag character.
///
/// ```
/// use oauth1_provider::model::is_hidden_character;
/// assert!(is_hidden_character('\u{202E}'));
/// assert!(is_hidden_character('\u{200B}'));
/// assert!(is_hidden_character('\n'));
/// assert!(!is_hidden_character('é'));
/// ```
pub fn is_hidden_character(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'                   // soft hyphen
            | '\u{034F}'                 // combining grapheme joiner
            | '\u{061C}'                 // Arabic letter mark
            | '\u{115F}' | '\u{1160}'    // Hangul fillers
            | '\u{17B4}' | '\u{17B5}'    // Khmer inherent vowels
            | '\u{180B}'..='\u{180F}'    // Mongolian selectors and vowel separator
            | '\u{200B}'..='\u{200F}'    // zero-width space, (non-)joiner, LRM, RLM
            | '\u{2028}'..='\u{202E}'    // separators, embeddings, overrides
            | '\u{2060}'..='\u{206F}'    // word joiner, invisible operators, isolates
            | '\u{3164}'                 // Hangul filler
            | '\u{FE00}'..='\u{FE0F}'    // variation selectors
            | '\u{FEFF}'                 // zero-width no-break space
            | '\u{FFA0}'                 // halfwidth Hangul filler
            | '\u{FFF9}'..='\u{FFFB}'    // interlinear annotation
            | '\u{E0000}'..='\u{E0FFF}' // tags, variation selectors supplement
        )
}

/// `text` without its [hidden characters](is_hidden_character); borrowed
/// when it has none.
///
/// ```
/// use oauth1_provider::model::strip_hidden_characters;
/// assert_eq!(strip_hidden_characters("Photo\u{202E} Printer\n"), "Photo Printer");
/// ```
pub fn strip_hidden_characters(text: &str) -> Cow<'_, str> {
    if text.chars().any(is_hidden_character) {
        Cow::Owned(text.chars().filter(|&c| !is_hidden_character(c)).collect())
    } else {
        Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidi_zero_width_and_control_characters_are_hidden_ones() {
        for c in [
            '\0',
            '\t',
            '\n',
            '\r',
            '\u{1B}',
            '\u{7F}',
            '\u{85}',
            '\u{9F}',
            '\u{200B}',
            '\u{200C}',
            '\u{200D}',
            '\u{200E}',
            '\u{200F}',
            '\u{202A}',
            '\u{202E}',
            '\u{2066}',
            '\u{2069}',
            '\u{2028}',
            '\u{2029}',
            '\u{2060}',
            '\u{FEFF}',
            '\u{061C}',
            '\u{E0041}',
        ] {
            assert!(
                is_hidden_character(c),
                "{:?}",
                c.escape_unicode().to_string()
            );
        }
        for c in [
            'a',
            ' ',
            'é',
            'ß',
            '中',
            '\u{05D0}',
            '\u{0627}',
            '\u{201C}',
            '\u{1F600}',
        ] {
            assert!(
                !is_hidden_character(c),
                "{:?}",
                c.escape_unicode().to_string()
            );
        }
    }

    #[test]
    fn stripping_keeps_visible_text_and_borrows_clean_text() {
        assert!(matches!(
            strip_hidden_characters("Photo Printer"),
            Cow::Borrowed(_)
        ));
        assert_eq!(
            strip_hidden_characters("Google Drive\u{202E}\u{200B}\r\n (evil)"),
            "Google Drive (evil)"
        );
    }
}
