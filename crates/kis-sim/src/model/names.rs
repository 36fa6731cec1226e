//! Plausible Korean listing names and their English forms, for the generated part of the universe.
//!
//! Company names follow the common patterns of the KRX list: a two-syllable word and an industry
//! word (`동양화학`, `Dongyang Chemical`), an acronym read out in Hangul (`에이치엘바이오`, `HL Bio`) or
//! written in capitals (`KG케미칼`, `KG Chemical`). English forms romanize the Hangul part (Revised
//! Romanization, syllable by syllable) and translate the industry word. ETF names are a brand and an
//! underlying (`KODEX 반도체`), ETN names an issuer, an underlying and `ETN`.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Two-syllable name words (none of them `삼성`: the simulator keeps that group to its real members).
pub(crate) const WORDS: &[&str] = &[
    "대한", "한국", "동양", "대성", "삼화", "세진", "신성", "한일", "동화", "일진", "태광", "한솔", "성우",
    "영진", "제일", "서울", "부산", "대림", "신흥", "금호", "삼익", "동원", "우진", "대원", "삼영", "동국",
    "한신", "세원", "대동", "경동", "동성", "한성", "삼진", "신화", "우성", "대영", "한미", "태영", "광명",
    "서한", "유진", "삼천", "동아", "한양", "일신", "대창", "세명", "삼보", "한창", "동방", "고려", "대진",
    "남선", "경남", "천일", "극동", "미래", "광진", "명진", "백광", "상신", "성안", "신영", "아남", "영풍",
    "원익", "율촌", "정원", "진성", "청호", "태양", "풍산", "화신", "흥국", "동부", "삼호", "성신", "영원",
    "국일", "금강", "대호", "동일", "동진", "두올", "범양", "부국", "비전", "삼광", "삼양", "서원", "선진",
    "성호", "세아", "신원", "양지", "영신", "오성", "우주", "원풍", "유성", "융창", "이화", "일동", "일성",
    "장원", "조광", "중앙", "진양", "창해", "천보", "청담", "태경", "태평", "푸른", "한길", "한라", "한별",
    "해성", "현진", "혜인", "화성", "효림", "휴먼", "희성", "가온", "나라", "누리", "다온", "라온", "마루",
    "바른", "새한", "아람", "온누", "은성", "지성", "참빛", "초록", "하늘", "한빛", "금양", "대상", "동신",
    "명성", "보성", "삼우", "서광", "세영", "신아", "아진", "영보", "우신", "인성", "정우",
];

/// Letters as Korean reads them out (`HL` → `에이치엘`).
const LETTERS: [(char, &str); 24] = [
    ('A', "에이"),
    ('B', "비"),
    ('C', "씨"),
    ('D', "디"),
    ('E', "이"),
    ('F', "에프"),
    ('G', "지"),
    ('H', "에이치"),
    ('I', "아이"),
    ('J', "제이"),
    ('K', "케이"),
    ('L', "엘"),
    ('M', "엠"),
    ('N', "엔"),
    ('P', "피"),
    ('R', "알"),
    ('S', "에스"),
    ('T', "티"),
    ('U', "유"),
    ('V', "브이"),
    ('W', "더블유"),
    ('X', "엑스"),
    ('Y', "와이"),
    ('Z', "지"),
];

/// A sector's industry words (Korean, English).
pub(crate) type Words = &'static [(&'static str, &'static str)];

/// A name of a company in `words`'s industry, not yet in `taken` (the caller adds it): Korean and
/// English.
pub(crate) fn company(rng: &mut ChaCha8Rng, words: Words, taken: &dyn Fn(&str) -> bool) -> (String, String) {
    for _ in 0..1_000 {
        let (kr_word, en_word) = words[rng.random_range(0..words.len())];
        let pattern = rng.random_range(0..100);
        let (kr, en) = if pattern < 60 {
            let w = WORDS[rng.random_range(0..WORDS.len())];
            (format!("{w}{kr_word}"), format!("{} {en_word}", romanize(w)))
        } else {
            let n = if rng.random_bool(0.7) { 2 } else { 3 };
            let acronym: Vec<(char, &str)> = (0..n)
                .map(|_| LETTERS[rng.random_range(0..LETTERS.len())])
                .collect();
            let latin: String = acronym.iter().map(|(c, _)| *c).collect();
            if pattern < 85 {
                let read: String = acronym.iter().map(|(_, r)| *r).collect();
                (format!("{read}{kr_word}"), format!("{latin} {en_word}"))
            } else {
                (format!("{latin}{kr_word}"), format!("{latin} {en_word}"))
            }
        };
        if kr.chars().count() <= 12 && !taken(&kr) {
            return (kr, en);
        }
    }
    // Unreachable in practice (thousands of combinations per industry); a numbered fallback.
    let mut n = 2;
    loop {
        let kr = format!("{}{}{n}", WORDS[0], words[0].0);
        if !taken(&kr) {
            return (kr.clone(), format!("{} {} {n}", romanize(WORDS[0]), words[0].1));
        }
        n += 1;
    }
}

/// Revised Romanization of Hangul syllables, one syllable at a time (no sound-change rules), the first
/// letter capitalised; other characters are kept.
pub(crate) fn romanize(text: &str) -> String {
    const INITIAL: [&str; 19] = [
        "g", "kk", "n", "d", "tt", "r", "m", "b", "pp", "s", "ss", "", "j", "jj", "ch", "k", "t", "p", "h",
    ];
    const MEDIAL: [&str; 21] = [
        "a", "ae", "ya", "yae", "eo", "e", "yeo", "ye", "o", "wa", "wae", "oe", "yo", "u", "wo", "we", "wi",
        "yu", "eu", "ui", "i",
    ];
    const FINAL: [&str; 28] = [
        "", "k", "k", "k", "n", "n", "n", "t", "l", "k", "m", "l", "l", "l", "p", "l", "m", "p", "p", "t",
        "t", "ng", "t", "t", "k", "t", "p", "t",
    ];
    let mut out = String::new();
    for c in text.chars() {
        let v = c as u32;
        if (0xAC00..=0xD7A3).contains(&v) {
            let i = (v - 0xAC00) as usize;
            out.push_str(INITIAL[i / 588]);
            out.push_str(MEDIAL[i % 588 / 28]);
            out.push_str(FINAL[i % 28]);
        } else {
            out.push(c);
        }
    }
    let mut chars = out.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => out,
    }
}

/// ETF brands (Korean asset managers' series names) with their weights in the listing.
pub(crate) const ETF_BRANDS: &[(&str, u32)] = &[
    ("KODEX", 30),
    ("TIGER", 28),
    ("RISE", 10),
    ("ACE", 9),
    ("SOL", 7),
    ("HANARO", 5),
    ("PLUS", 4),
    ("KIWOOM", 3),
    ("TIMEFOLIO", 2),
    ("1Q", 1),
    ("WON", 1),
];

/// ETN issuers with their weights.
pub(crate) const ETN_ISSUERS: &[(&str, &str, u32)] = &[
    ("신한", "Shinhan", 18),
    ("삼성", "Samsung", 10),
    ("미래에셋", "Mirae Asset", 14),
    ("QV", "QV", 12),
    ("KB", "KB", 10),
    ("TRUE", "TRUE", 12),
    ("메리츠", "Meritz", 8),
    ("대신", "Daishin", 5),
    ("하나", "Hana", 6),
    ("키움", "Kiwoom", 5),
];

/// Picks from weighted entries.
pub(crate) fn weighted<T: Copy>(rng: &mut ChaCha8Rng, items: &[(T, u32)]) -> T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut x = rng.random_range(0..total.max(1));
    for &(item, w) in items {
        if x < w {
            return item;
        }
        x -= w;
    }
    items[0].0
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn romanization_follows_the_revised_rules_per_syllable() {
        assert_eq!(romanize("대한"), "Daehan");
        assert_eq!(romanize("동양"), "Dongyang");
        assert_eq!(romanize("한국"), "Hanguk");
        assert_eq!(romanize("삼천"), "Samcheon");
        assert_eq!(romanize("KG"), "KG");
    }

    #[test]
    fn names_are_new_short_and_paired_with_ascii_english() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let words: Words = &[("화학", "Chemical"), ("전자", "Electronics")];
        let mut seen = std::collections::HashSet::new();
        for _ in 0..500 {
            let (kr, en) = company(&mut rng, words, &|n| seen.contains(n));
            assert!(en.is_ascii() && !en.is_empty(), "{en}");
            assert!(kr.chars().count() <= 12);
            assert!(!kr.contains("삼성"));
            assert!(seen.insert(kr));
        }
    }
}
