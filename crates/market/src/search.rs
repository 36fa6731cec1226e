//! Stock search the way a Korean HTS does it: by code prefix, Korean name, 초성 or English name.
//!
//! A [`StockIndex`] is built once from the listing (the KIS stock master, see `kis::master`) and is
//! then read-only: the service swaps in a new one when the master is refreshed. It does no I/O.
//!
//! **Matching.** The query is trimmed; letters are compared case-insensitively and whitespace is
//! ignored on both sides (`kodex200` finds `KODEX 200`). A listing matches, best tier first:
//!
//! | tier | rule |
//! |---|---|
//! | [`Match::ExactCode`] | the code equals the query (`005930`) |
//! | [`Match::CodePrefix`] | the code starts with the query (`0059`) |
//! | [`Match::ExactName`] / [`Match::NamePrefix`] | the Korean or English name is / starts with the query (`삼성`, `naver`) |
//! | [`Match::NameSubstring`] | the name contains the query (`전자`) |
//! | [`Match::InitialsExact`] / [`Match::InitialsPrefix`] / [`Match::Initials`] | 초성: the query, read character by character, matches the whole name / a run from its start / a run anywhere (`ㅅㅅㅈㅈ`, `삼ㅅ`) |
//!
//! In a 초성 query, a compatibility jamo consonant (ㄱ ㄲ ㄴ … ㅎ, U+3131–U+314E) matches any Hangul
//! syllable whose initial consonant it is; every other character (a full syllable, a letter, a digit)
//! matches itself. So `ㅅㅅㅈㅈ`, `삼ㅅㅈㅈ` and `삼성ㅈ자` all find 삼성전자. The decomposition is
//! arithmetic on the Unicode Hangul syllable block (U+AC00–U+D7A3: 19 initials × 21 medials × 28
//! finals), so no table of names is needed.
//!
//! **Ranking.** By tier, then by market capitalisation (largest first; a listing without one after
//! those with one), then by listing order (the order given to [`StockIndex::new`]).
//!
//! **Cost.** A query scans every listing once over precomputed keys (lower-cased names without
//! whitespace and their initials) with one substring searcher built per query (`memchr::memmem`), so
//! no query allocates per listing; at 4,000 listings a query takes
//! microseconds (see `BENCHMARKS.md`). An empty query or one longer than [`MAX_QUERY_CHARS`] is refused
//! before any scan.

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// The longest query accepted, in characters (after trimming).
pub const MAX_QUERY_CHARS: usize = 64;
/// The most hits one query may ask for.
pub const MAX_LIMIT: usize = 100;

/// The exchange section a listing trades on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Market {
    Kospi,
    Kosdaq,
}

impl Market {
    /// `"KOSPI"` or `"KOSDAQ"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Market::Kospi => "KOSPI",
            Market::Kosdaq => "KOSDAQ",
        }
    }
}

impl fmt::Display for Market {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What kind of security a listing is, from the master's 증권그룹구분코드 (security group code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// `ST` 주권 (shares) and `FS` 외국주권 (a foreign company's shares).
    Stock,
    /// `EF` ETF and `FE` 해외ETF.
    Etf,
    /// `EN` ETN.
    Etn,
    /// `RT` 부동산투자회사 (REIT).
    Reit,
    /// `MF` 증권투자회사, `SC` 선박투자회사, `IF` 사회간접자본투융자회사, `BC` 수익증권.
    Fund,
    /// `DR` 주식예탁증서 (depositary receipt).
    Dr,
    /// `SW`/`SR` 신주인수권 (subscription warrants and rights).
    Warrant,
    /// `EW` ELW.
    Elw,
    /// Any other group code.
    Other,
}

impl Kind {
    /// The kind a master group code stands for (`ST`, `EF`, `EN`, `RT`, …); unknown codes are
    /// [`Kind::Other`].
    pub fn from_group_code(group: &str) -> Kind {
        match group.trim() {
            "ST" | "FS" => Kind::Stock,
            "EF" | "FE" => Kind::Etf,
            "EN" => Kind::Etn,
            "RT" => Kind::Reit,
            "MF" | "SC" | "IF" | "BC" => Kind::Fund,
            "DR" => Kind::Dr,
            "SW" | "SR" => Kind::Warrant,
            "EW" => Kind::Elw,
            _ => Kind::Other,
        }
    }

    /// The lower-case name used in JSON (`stock`, `etf`, `etn`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Stock => "stock",
            Kind::Etf => "etf",
            Kind::Etn => "etn",
            Kind::Reit => "reit",
            Kind::Fund => "fund",
            Kind::Dr => "dr",
            Kind::Warrant => "warrant",
            Kind::Elw => "elw",
            Kind::Other => "other",
        }
    }
}

/// One searchable listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listing {
    /// The short code (단축코드) as the master writes it: `005930`, `0004Y0`.
    pub code: String,
    /// The Korean name (한글명).
    pub name: String,
    pub market: Market,
    pub kind: Kind,
    /// Market capitalisation in units of 100 million KRW (억원), when known; ranks ties.
    pub market_cap: Option<u64>,
    /// An English name, when some source has one (the master does not).
    pub english_name: Option<String>,
}

/// How a listing matched a query; the earlier variant ranks first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Match {
    ExactCode,
    CodePrefix,
    /// The whole name (a name prefix that is the entire name ranks first among name prefixes).
    ExactName,
    NamePrefix,
    NameSubstring,
    /// 초성 of the whole name.
    InitialsExact,
    InitialsPrefix,
    Initials,
}

/// A search result. Serialises as `{"code","name","market","kind"}`, the shape of
/// `GET /api/v1/stocks/search`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hit {
    pub code: String,
    pub name: String,
    pub market: Market,
    pub kind: Kind,
    /// Why it matched (not serialised).
    #[serde(skip)]
    pub matched: Match,
}

/// Why a query was refused. The service answers these with HTTP 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchError {
    #[error("검색어가 비어 있습니다 / the search query is empty")]
    EmptyQuery,
    #[error(
        "검색어가 너무 깁니다 ({chars}자, 최대 {max}자) / the search query is too long: {chars} characters, at most {max}"
    )]
    QueryTooLong { chars: usize, max: usize },
    #[error("결과 수 {limit}는 1에서 {max} 사이여야 합니다 / limit {limit} must be between 1 and {max}")]
    BadLimit { limit: usize, max: usize },
}

/// The listing prepared for matching.
#[derive(Debug, Clone)]
struct Entry {
    listing: Listing,
    /// Upper-cased code.
    code: String,
    /// The Korean name, lower-cased, whitespace removed.
    name: Vec<char>,
    name_key: String,
    /// `name` with every Hangul syllable replaced by its initial consonant (compatibility jamo).
    initials: Vec<char>,
    english_key: Option<String>,
}

impl Entry {
    fn new(listing: Listing) -> Entry {
        let name = normalise(&listing.name);
        let initials = name.iter().map(|&c| initial(c).unwrap_or(c)).collect();
        Entry {
            code: listing.code.to_uppercase(),
            name_key: name.iter().collect(),
            name,
            initials,
            english_key: listing
                .english_name
                .as_deref()
                .map(|n| normalise(n).into_iter().collect()),
            listing,
        }
    }

    fn matches(&self, q: &Query) -> Option<Match> {
        if let Some(code) = &q.code {
            if self.code == *code {
                return Some(Match::ExactCode);
            }
            if self.code.starts_with(code.as_str()) {
                return Some(Match::CodePrefix);
            }
        }
        let english = self.english_key.as_deref().unwrap_or("");
        if self.name_key == q.key || english == q.key {
            return Some(Match::ExactName);
        }
        if self.name_key.starts_with(&q.key) || english.starts_with(&q.key) {
            return Some(Match::NamePrefix);
        }
        if q.finder.find(self.name_key.as_bytes()).is_some() || q.finder.find(english.as_bytes()).is_some() {
            return Some(Match::NameSubstring);
        }
        if q.has_jamo {
            let n = q.chars.len();
            if n <= self.name.len() {
                let fits = |at: usize| {
                    q.chars.iter().enumerate().all(|(j, &c)| {
                        if is_initial_jamo(c) {
                            self.initials[at + j] == c
                        } else {
                            self.name[at + j] == c
                        }
                    })
                };
                if fits(0) {
                    return Some(if n == self.name.len() {
                        Match::InitialsExact
                    } else {
                        Match::InitialsPrefix
                    });
                }
                if (1..=self.name.len() - n).any(fits) {
                    return Some(Match::Initials);
                }
            }
        }
        None
    }
}

/// A query, checked and normalised once.
struct Query {
    /// Lower-cased, whitespace removed.
    chars: Vec<char>,
    key: String,
    /// A substring searcher for `key`, built once per query.
    finder: memchr::memmem::Finder<'static>,
    /// Upper-cased, when the query could be (the start of) a code: ASCII letters and digits.
    code: Option<String>,
    /// Whether any character is a jamo consonant (only then can 초성 matching find more).
    has_jamo: bool,
}

impl Query {
    fn parse(raw: &str) -> Result<Query, SearchError> {
        let trimmed = raw.trim();
        let count = trimmed.chars().count();
        if count > MAX_QUERY_CHARS {
            return Err(SearchError::QueryTooLong {
                chars: count,
                max: MAX_QUERY_CHARS,
            });
        }
        let chars = normalise(trimmed);
        if chars.is_empty() {
            return Err(SearchError::EmptyQuery);
        }
        let code = chars
            .iter()
            .all(|c| c.is_ascii_alphanumeric())
            .then(|| chars.iter().collect::<String>().to_ascii_uppercase());
        let key: String = chars.iter().collect();
        Ok(Query {
            finder: memchr::memmem::Finder::new(key.as_bytes()).into_owned(),
            key,
            has_jamo: chars.iter().any(|&c| is_initial_jamo(c)),
            code,
            chars,
        })
    }
}

/// Lower-cased characters with whitespace removed.
fn normalise(s: &str) -> Vec<char> {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The compatibility jamo (U+3131…) of each of the 19 initial consonants, in syllable order.
const INITIALS: [char; 19] = [
    'ㄱ', 'ㄲ', 'ㄴ', 'ㄷ', 'ㄸ', 'ㄹ', 'ㅁ', 'ㅂ', 'ㅃ', 'ㅅ', 'ㅆ', 'ㅇ', 'ㅈ', 'ㅉ', 'ㅊ', 'ㅋ', 'ㅌ',
    'ㅍ', 'ㅎ',
];
const SYLLABLE_FIRST: u32 = 0xAC00;
const SYLLABLE_LAST: u32 = 0xD7A3;
/// Syllables per initial consonant: 21 medials × 28 finals.
const PER_INITIAL: u32 = 21 * 28;

/// The initial consonant of a Hangul syllable, as a compatibility jamo (`삼` → `ㅅ`).
pub fn initial(c: char) -> Option<char> {
    let u = c as u32;
    if (SYLLABLE_FIRST..=SYLLABLE_LAST).contains(&u) {
        Some(INITIALS[((u - SYLLABLE_FIRST) / PER_INITIAL) as usize])
    } else {
        None
    }
}

/// Whether `c` is a compatibility jamo that can begin a syllable (ㄱ ㄲ ㄴ … ㅎ).
pub fn is_initial_jamo(c: char) -> bool {
    INITIALS.contains(&c)
}

/// The 초성 string of a name: every syllable replaced by its initial (`삼성전자` → `ㅅㅅㅈㅈ`).
pub fn initials(name: &str) -> String {
    name.chars().map(|c| initial(c).unwrap_or(c)).collect()
}

/// Every listing, searchable, and a code → listing map.
#[derive(Debug, Clone, Default)]
pub struct StockIndex {
    entries: Vec<Entry>,
    by_code: HashMap<String, usize>,
}

impl StockIndex {
    /// An index over `listings`, in this (listing) order. A code listed twice keeps its first listing.
    pub fn new(listings: impl IntoIterator<Item = Listing>) -> StockIndex {
        let mut index = StockIndex::default();
        for listing in listings {
            let code = listing.code.to_uppercase();
            if index.by_code.contains_key(&code) {
                continue;
            }
            index.by_code.insert(code, index.entries.len());
            index.entries.push(Entry::new(listing));
        }
        index
    }

    /// The same index with English names added for these codes (unknown codes are ignored): e.g. from
    /// the simulator's or KIS's `search-stock-info`.
    pub fn with_english_names<C, N>(mut self, names: impl IntoIterator<Item = (C, N)>) -> StockIndex
    where
        C: AsRef<str>,
        N: Into<String>,
    {
        for (code, name) in names {
            if let Some(&i) = self.by_code.get(&code.as_ref().to_uppercase()) {
                let mut listing = self.entries[i].listing.clone();
                listing.english_name = Some(name.into());
                self.entries[i] = Entry::new(listing);
            }
        }
        self
    }

    /// The listing with this code (case-insensitive), if any.
    pub fn get(&self, code: &str) -> Option<&Listing> {
        let i = *self.by_code.get(&code.to_uppercase())?;
        Some(&self.entries[i].listing)
    }

    /// The Korean name of this code, if listed.
    pub fn name(&self, code: &str) -> Option<&str> {
        self.get(code).map(|l| l.name.as_str())
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every listing, in listing order.
    pub fn listings(&self) -> impl Iterator<Item = &Listing> {
        self.entries.iter().map(|e| &e.listing)
    }

    /// The best `limit` (1..=[`MAX_LIMIT`]) listings for `query`, best first (see the module docs).
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<Hit>, SearchError> {
        if limit == 0 || limit > MAX_LIMIT {
            return Err(SearchError::BadLimit {
                limit,
                max: MAX_LIMIT,
            });
        }
        let q = Query::parse(query)?;
        let mut found: Vec<(Match, std::cmp::Reverse<u64>, bool, usize)> = self
            .entries
            .iter()
            .enumerate()
            .filter_map(|(i, e)| {
                let m = e.matches(&q)?;
                let cap = e.listing.market_cap;
                Some((m, std::cmp::Reverse(cap.unwrap_or(0)), cap.is_none(), i))
            })
            .collect();
        // Tier, then market cap (largest first, unknown last), then listing order.
        let key = |&(m, cap, unknown, i): &(Match, std::cmp::Reverse<u64>, bool, usize)| (m, unknown, cap, i);
        if found.len() > limit {
            found.select_nth_unstable_by_key(limit - 1, key);
            found.truncate(limit);
        }
        found.sort_unstable_by_key(key);
        Ok(found
            .into_iter()
            .map(|(matched, _, _, i)| {
                let l = &self.entries[i].listing;
                Hit {
                    code: l.code.clone(),
                    name: l.name.clone(),
                    market: l.market,
                    kind: l.kind,
                    matched,
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(code: &str, name: &str, market: Market, cap: Option<u64>) -> Listing {
        Listing {
            code: code.into(),
            name: name.into(),
            market,
            kind: Kind::Stock,
            market_cap: cap,
            english_name: None,
        }
    }

    fn sample() -> StockIndex {
        use Market::*;
        StockIndex::new([
            listing("000660", "SK하이닉스", Kospi, Some(4_000_000)),
            listing("006400", "삼성SDI", Kospi, Some(200_000)),
            listing("005935", "삼성전자우", Kospi, Some(900_000)),
            listing("005930", "삼성전자", Kospi, Some(5_800_000)),
            listing("207940", "삼성바이오로직스", Kospi, Some(720_000)),
            listing("035420", "NAVER", Kospi, Some(390_000)),
            listing("009150", "삼성전기", Kospi, Some(150_000)),
            listing("028260", "삼성물산", Kospi, None),
            listing("000810", "삼성화재", Kospi, Some(210_000)),
            listing("247540", "에코프로비엠", Kosdaq, Some(150_000)),
            listing("012450", "한화에어로스페이스", Kospi, Some(490_000)),
            Listing {
                kind: Kind::Etf,
                ..listing("069500", "KODEX 200", Kospi, Some(100_000))
            },
        ])
        .with_english_names([("005930", "Samsung Electronics"), ("999999", "Nobody")])
    }

    fn codes(hits: &[Hit]) -> Vec<&str> {
        hits.iter().map(|h| h.code.as_str()).collect()
    }

    #[test]
    fn initials_decompose_syllables() {
        assert_eq!(initials("삼성전자"), "ㅅㅅㅈㅈ");
        assert_eq!(initials("SK하이닉스"), "SKㅎㅇㄴㅅ");
        assert_eq!(initial('까'), Some('ㄲ'));
        assert_eq!(initial('힣'), Some('ㅎ'));
        assert_eq!(initial('가'), Some('ㄱ'));
        assert_eq!(initial('ㄱ'), None);
        assert!(is_initial_jamo('ㅎ') && !is_initial_jamo('ㅏ') && !is_initial_jamo('ㄳ'));
    }

    #[test]
    fn chosung_finds_samsung_electronics_first() {
        let hits = sample().search("ㅅㅅㅈㅈ", 10).unwrap();
        assert_eq!(codes(&hits), ["005930", "005935"]);
        assert_eq!(hits[0].name, "삼성전자");
        assert_eq!(hits[0].matched, Match::InitialsExact);
        assert_eq!(hits[1].matched, Match::InitialsPrefix);
    }

    #[test]
    fn mixed_syllables_and_jamo() {
        let idx = sample();
        for q in ["삼ㅅ", "삼ㅅㅈㅈ", "삼성ㅈ자", "ㅅ성ㅈ"] {
            let hits = idx.search(q, 20).unwrap();
            assert!(hits.iter().any(|h| h.code == "005930"), "{q}: {hits:?}");
            assert!(hits.iter().all(|h| h.name.starts_with('삼')), "{q}: {hits:?}");
        }
        // Inside a name: 삼성바이오로직스 and 에코프로비엠, by market cap.
        let hits = idx.search("ㅂㅇ", 10).unwrap();
        assert_eq!(codes(&hits), ["207940", "247540"]);
        assert!(hits.iter().all(|h| h.matched == Match::Initials));
        // Letters and jamo mixed: SK하이닉스.
        assert_eq!(codes(&idx.search("skㅎㅇ", 10).unwrap()), ["000660"]);
        // From the start of a name ranks before inside it, whatever the market cap.
        let small = StockIndex::new([
            listing("000001", "대삼성", Market::Kospi, Some(1_000)),
            listing("000002", "성삼물산", Market::Kosdaq, Some(1)),
        ]);
        let hits = small.search("ㅅㅅ", 10).unwrap();
        assert_eq!(codes(&hits), ["000002", "000001"]);
        assert_eq!(hits[0].matched, Match::InitialsPrefix);
        assert_eq!(hits[1].matched, Match::Initials);
        // A jamo never matches a syllable with another initial.
        assert!(idx.search("ㅂㅂ", 10).unwrap().is_empty());
    }

    #[test]
    fn name_prefix_finds_every_samsung_by_market_cap() {
        let hits = sample().search("삼성", 20).unwrap();
        assert_eq!(
            codes(&hits),
            [
                "005930", "005935", "207940", "000810", "006400", "009150", "028260"
            ]
        );
        assert!(hits.iter().all(|h| h.matched == Match::NamePrefix));
    }

    #[test]
    fn the_whole_name_ranks_before_a_bigger_longer_one() {
        let idx = StockIndex::new([
            listing("000001", "대한전자우", Market::Kospi, Some(1_000_000)),
            listing("000002", "대한전자", Market::Kospi, Some(1)),
        ]);
        for q in ["대한전자", "ㄷㅎㅈㅈ"] {
            let hits = idx.search(q, 5).unwrap();
            assert_eq!(codes(&hits), ["000002", "000001"], "{q}");
        }
    }

    #[test]
    fn code_prefix_and_exact_code() {
        let idx = sample();
        let hits = idx.search("0059", 10).unwrap();
        assert_eq!(codes(&hits), ["005930", "005935"]);
        assert_eq!(hits[0].matched, Match::CodePrefix);
        let hits = idx.search("005935", 10).unwrap();
        assert_eq!(hits[0].code, "005935");
        assert_eq!(hits[0].matched, Match::ExactCode);
    }

    #[test]
    fn exact_code_outranks_a_bigger_prefix_match() {
        let idx = StockIndex::new([
            listing("123456", "큰회사", Market::Kospi, Some(1_000_000)),
            listing("12345A", "작은회사", Market::Kosdaq, Some(1)),
        ]);
        let hits = idx.search("12345a", 5).unwrap();
        assert_eq!(codes(&hits), ["12345A"]);
        let hits = idx.search("12345", 5).unwrap();
        assert_eq!(codes(&hits), ["123456", "12345A"]);
    }

    #[test]
    fn english_is_case_insensitive() {
        let idx = sample();
        let hits = idx.search("naver", 5).unwrap();
        assert_eq!(hits[0].name, "NAVER");
        let hits = idx.search("SAMSUNG elec", 5).unwrap();
        assert_eq!(codes(&hits), ["005930"]);
        let hits = idx.search("electronics", 5).unwrap();
        assert_eq!(hits[0].matched, Match::NameSubstring);
        let hits = idx.search("kodex200", 5).unwrap();
        assert_eq!(hits[0].kind, Kind::Etf);
    }

    #[test]
    fn substring_ranks_below_prefix() {
        let idx = StockIndex::new([
            listing("000001", "대한전자", Market::Kospi, Some(9_999_999)),
            listing("000002", "전자랜드", Market::Kosdaq, Some(1)),
        ]);
        let hits = idx.search("전자", 5).unwrap();
        assert_eq!(codes(&hits), ["000002", "000001"]);
        assert_eq!(hits[1].matched, Match::NameSubstring);
    }

    #[test]
    fn limit_keeps_the_best() {
        let hits = sample().search("삼성", 2).unwrap();
        assert_eq!(codes(&hits), ["005930", "005935"]);
    }

    #[test]
    fn bad_queries_are_refused() {
        let idx = sample();
        assert_eq!(idx.search("", 5), Err(SearchError::EmptyQuery));
        assert_eq!(idx.search("   ", 5), Err(SearchError::EmptyQuery));
        let long = "가".repeat(200);
        assert_eq!(
            idx.search(&long, 5),
            Err(SearchError::QueryTooLong {
                chars: 200,
                max: MAX_QUERY_CHARS
            })
        );
        assert!(idx.search(&"a".repeat(MAX_QUERY_CHARS), 5).is_ok());
        assert!(matches!(idx.search("삼성", 0), Err(SearchError::BadLimit { .. })));
        assert!(matches!(
            idx.search("삼성", MAX_LIMIT + 1),
            Err(SearchError::BadLimit { .. })
        ));
        let msg = SearchError::QueryTooLong { chars: 200, max: 64 }.to_string();
        assert!(msg.contains("200") && msg.contains("64"), "{msg}");
    }

    #[test]
    fn get_and_json_shape() {
        let idx = sample();
        assert_eq!(idx.name("005930"), Some("삼성전자"));
        assert_eq!(idx.get("069500").map(|l| l.kind), Some(Kind::Etf));
        assert_eq!(idx.get("123456"), None);
        let hit = &idx.search("069500", 1).unwrap()[0];
        let json = serde_json::to_value(hit).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"code":"069500","name":"KODEX 200","market":"KOSPI","kind":"etf"})
        );
    }

    #[test]
    fn kinds_from_group_codes() {
        assert_eq!(Kind::from_group_code("ST"), Kind::Stock);
        assert_eq!(Kind::from_group_code("EF"), Kind::Etf);
        assert_eq!(Kind::from_group_code("EN"), Kind::Etn);
        assert_eq!(Kind::from_group_code("RT"), Kind::Reit);
        assert_eq!(Kind::from_group_code("IF"), Kind::Fund);
        assert_eq!(Kind::from_group_code("ZZ"), Kind::Other);
    }

    proptest::proptest! {
        #[test]
        fn any_query_is_answered_or_refused_without_panic(q in "\\PC{0,80}", limit in 0usize..120) {
            let idx = sample();
            if let Ok(hits) = idx.search(&q, limit) {
                proptest::prop_assert!(hits.len() <= limit);
                let tiers: Vec<_> = hits.iter().map(|h| h.matched).collect();
                proptest::prop_assert!(tiers.windows(2).all(|w| w[0] <= w[1]));
            }
        }

        #[test]
        fn every_listing_is_found_by_its_code_name_and_initials(i in 0usize..12) {
            let idx = sample();
            let l = idx.listings().nth(i).unwrap().clone();
            for q in [l.code.clone(), l.name.clone(), initials(&l.name)] {
                let hits = idx.search(&q, MAX_LIMIT).unwrap();
                proptest::prop_assert!(hits.iter().any(|h| h.code == l.code), "{q}");
            }
        }
    }
}
