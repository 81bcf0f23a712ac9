//! Vietnamese text helpers: diacritic-folding for search and name collation for lists.
//!
//! Cadres type names without diacritics on cheap phones, so search folds both sides to
//! plain ASCII letters. Lists are sorted the Vietnamese way: by given name (the last
//! word), then family name (the first word), then middle names, with the Vietnamese
//! alphabet (a < ă < â < b < ... < đ ...) and tones ordered after the base letter
//! (none, huyền, hỏi, ngã, sắc, nặng). Both precomposed (NFC) and decomposed (NFD)
//! input are handled, since both occur in real data.

/// Vietnamese letters in alphabetical order; `f j w z` are placed where Latin puts them
/// because they occur in foreign and ethnic-minority names.
const ALPHABET: [char; 33] = [
    'a', 'ă', 'â', 'b', 'c', 'd', 'đ', 'e', 'ê', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
    'ô', 'ơ', 'p', 'q', 'r', 's', 't', 'u', 'ư', 'v', 'w', 'x', 'y', 'z',
];

/// Each vowel with its tones in collation order: none, huyền, hỏi, ngã, sắc, nặng.
const TONED: [(char, [char; 6]); 12] = [
    ('a', ['a', 'à', 'ả', 'ã', 'á', 'ạ']),
    ('ă', ['ă', 'ằ', 'ẳ', 'ẵ', 'ắ', 'ặ']),
    ('â', ['â', 'ầ', 'ẩ', 'ẫ', 'ấ', 'ậ']),
    ('e', ['e', 'è', 'ẻ', 'ẽ', 'é', 'ẹ']),
    ('ê', ['ê', 'ề', 'ể', 'ễ', 'ế', 'ệ']),
    ('i', ['i', 'ì', 'ỉ', 'ĩ', 'í', 'ị']),
    ('o', ['o', 'ò', 'ỏ', 'õ', 'ó', 'ọ']),
    ('ô', ['ô', 'ồ', 'ổ', 'ỗ', 'ố', 'ộ']),
    ('ơ', ['ơ', 'ờ', 'ở', 'ỡ', 'ớ', 'ợ']),
    ('u', ['u', 'ù', 'ủ', 'ũ', 'ú', 'ụ']),
    ('ư', ['ư', 'ừ', 'ử', 'ữ', 'ứ', 'ự']),
    ('y', ['y', 'ỳ', 'ỷ', 'ỹ', 'ý', 'ỵ']),
];

/// A lowercase character split into its letter (with vowel shape) and its tone (0–5).
fn decompose(c: char) -> (char, u8) {
    if c.is_ascii() {
        return (c, 0);
    }
    for (base, forms) in TONED.iter() {
        if let Some(tone) = forms.iter().position(|&f| f == c) {
            return (*base, tone as u8);
        }
    }
    (c, 0)
}

/// The ASCII letter a Vietnamese letter folds to (ă, â → a; đ → d; ư → u ...).
fn ascii_base(letter: char) -> char {
    match letter {
        'ă' | 'â' => 'a',
        'đ' => 'd',
        'ê' => 'e',
        'ô' | 'ơ' => 'o',
        'ư' => 'u',
        other => other,
    }
}

/// Tone number of a combining tone mark in NFD text, if it is one.
fn combining_tone(c: char) -> Option<u8> {
    match c {
        '\u{300}' => Some(1), // huyền
        '\u{309}' => Some(2), // hỏi
        '\u{303}' => Some(3), // ngã
        '\u{301}' => Some(4), // sắc
        '\u{323}' => Some(5), // nặng
        _ => None,
    }
}

/// Applies a combining vowel-shape mark (breve, circumflex, horn) to a base letter.
fn combine_shape(base: char, mark: char) -> Option<char> {
    Some(match (base, mark) {
        ('a', '\u{306}') => 'ă',
        ('a', '\u{302}') => 'â',
        ('e', '\u{302}') => 'ê',
        ('o', '\u{302}') => 'ô',
        ('o', '\u{31b}') => 'ơ',
        ('u', '\u{31b}') => 'ư',
        _ => return None,
    })
}

fn is_combining(c: char) -> bool {
    ('\u{300}'..='\u{36f}').contains(&c)
}

/// Lowercases and removes every diacritic, and collapses runs of whitespace to one
/// space: "  Nguyễn  Thị Đào" → "nguyen thi dao".
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.chars().flat_map(char::to_lowercase) {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if is_combining(c) {
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(ascii_base(decompose(c).0));
    }
    out
}

/// Whether `haystack` contains `needle` once both are folded (search as the cadre types).
pub fn folded_contains(haystack: &str, needle: &str) -> bool {
    fold(haystack).contains(&fold(needle))
}

/// An opaque key whose order is the Vietnamese order of full names.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SortKey(Vec<u32>);

/// Word separator in a key: lower than every letter, so a shorter word sorts first.
const SEP: u32 = 0;

/// The collation key of a full name: given name, then family name, then middle names;
/// within each word the letters first and the tones second, as in dictionaries.
pub fn sort_key(full_name: &str) -> SortKey {
    let words: Vec<&str> = full_name.split_whitespace().collect();
    let mut key = Vec::with_capacity(full_name.len() * 2 + 8);
    let order: Vec<&str> = match words.as_slice() {
        [] => Vec::new(),
        [only] => vec![only],
        [family, middle @ .., given] => {
            let mut v = vec![*given, *family];
            v.extend_from_slice(middle);
            v
        }
    };
    for word in &order {
        push_word(&mut key, word);
    }
    // The full original string breaks remaining ties (e.g. case differences) so the
    // order is total and deterministic.
    key.push(SEP);
    key.extend(full_name.chars().map(|c| c as u32 + 1));
    SortKey(key)
}

fn push_word(key: &mut Vec<u32>, word: &str) {
    let mut letters: Vec<char> = Vec::with_capacity(word.len());
    let mut tones: Vec<u8> = Vec::with_capacity(word.len());
    for c in word.chars().flat_map(char::to_lowercase) {
        if let Some(tone) = combining_tone(c) {
            if let Some(last) = tones.last_mut() {
                *last = tone;
            }
            continue;
        }
        if is_combining(c) {
            if let Some(last) = letters.last_mut()
                && let Some(shaped) = combine_shape(*last, c)
            {
                *last = shaped;
            }
            continue;
        }
        let (letter, tone) = decompose(c);
        letters.push(letter);
        tones.push(tone);
    }
    for &letter in &letters {
        key.push(letter_rank(letter));
    }
    key.push(SEP);
    for &tone in &tones {
        key.push(u32::from(tone) + 1);
    }
    key.push(SEP);
}

fn letter_rank(letter: char) -> u32 {
    match ALPHABET.iter().position(|&a| a == letter) {
        // Letters after digits and punctuation of the ASCII range.
        Some(i) => 1000 + i as u32,
        None if (letter as u32) < 128 => letter as u32 + 1,
        None => 2000 + letter as u32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_removes_diacritics_and_case() {
        assert_eq!(fold("Nguyễn"), "nguyen");
        assert_eq!(fold("ĐẶNG Thị Ánh"), "dang thi anh");
        assert_eq!(fold("  Hồ   Chí  Minh "), "ho chi minh");
        assert_eq!(fold("Lưu Ngọc Ơn"), "luu ngoc on");
        // Decomposed input: "Nguyê\u{303}n".
        assert_eq!(fold("Nguye\u{302}\u{303}n"), "nguyen");
        assert!(folded_contains("Nguyễn Văn An", "van an"));
    }

    fn check_order(names: &[&str]) {
        let mut sorted = names.to_vec();
        sorted.sort_by_key(|n| sort_key(n));
        assert_eq!(sorted, names);
    }

    #[test]
    fn names_sort_by_given_name_then_family_then_middle() {
        check_order(&["Trần Văn An", "Lê Thị Bình", "Nguyễn Văn Bình", "Phạm Chi"]);
        check_order(&["Nguyễn An", "Nguyễn Thị An", "Nguyễn Văn An"]);
    }

    #[test]
    fn vietnamese_letters_follow_their_base_letter() {
        check_order(&["Lê An", "Lê Ăn", "Lê Ân", "Lê Bảo"]);
        check_order(&["Lê Dung", "Lê Đức", "Lê Em"]);
        check_order(&["Lê Tố", "Lê Tơ", "Lê Tú", "Lê Tư"]);
    }

    #[test]
    fn tones_order_none_grave_hook_tilde_acute_dot() {
        check_order(&["Lê Ma", "Lê Mà", "Lê Mả", "Lê Mã", "Lê Má", "Lê Mạ"]);
        // Letters decide before tones: "Mạ" < "Mai".
        check_order(&["Lê Mạ", "Lê Mai"]);
    }

    #[test]
    fn decomposed_names_sort_like_precomposed_ones() {
        let nfd = "Le\u{302} A\u{300}";
        assert_eq!(sort_key(nfd).0[..8], sort_key("Lê À").0[..8]);
    }
}
