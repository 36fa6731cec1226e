//! Stock search at the size of the KRX master: 4,000 listings with plausible Korean names (generated
//! deterministically from common name parts: 삼성전자, 한국바이오로직스우, KODEX 미국반도체 …), codes
//! `000020`, `000055`, … (step 35, so 005930 and 035420 stay free for 삼성전자 and NAVER), KOSPI/KOSDAQ, a few ETFs/ETNs and market caps. Each query kind of the
//! search (exact code, code prefix, name prefix, substring, 초성, mixed, English, a 64-character miss,
//! a one-jamo query matching thousands) is measured as one `StockIndex::search(q, 20)` call; building
//! the index is measured too.
//!
//! Run: `CARGO_TARGET_DIR=… cargo bench -p market --bench search`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use market::search::{Kind, Listing, Market, StockIndex};

const LISTINGS: usize = 4_000;

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[(self.next() % from.len() as u64) as usize]
    }
}

const FIRST: &[&str] = &[
    "삼성",
    "현대",
    "엘지",
    "에스케이",
    "한화",
    "롯데",
    "신한",
    "대한",
    "동양",
    "한국",
    "코리아",
    "아시아",
    "글로벌",
    "미래",
    "우리",
    "하나",
    "케이",
    "제일",
    "대우",
    "두산",
    "동아",
    "한미",
    "일진",
    "세아",
    "효성",
    "금호",
    "대림",
    "태영",
    "유한",
    "녹십자",
    "에코",
    "씨젠",
    "셀트",
    "카카오",
    "네오",
    "휴",
];
const SECOND: &[&str] = &[
    "전자",
    "화학",
    "바이오",
    "건설",
    "증권",
    "생명",
    "화재",
    "중공업",
    "제약",
    "반도체",
    "엔터",
    "소프트",
    "테크",
    "로보틱스",
    "에너지",
    "모비스",
    "물산",
    "홀딩스",
    "캐피탈",
    "정밀",
    "전기",
    "바이오로직스",
    "머티리얼즈",
    "시스템",
    "솔루션",
    "헬스케어",
    "푸드",
    "제지",
    "해운",
    "항공",
];
const SUFFIX: &[&str] = &["", "", "", "", "", "", "우", "2우B", "리츠", "스팩"];
const ETF_BRANDS: &[&str] = &["KODEX", "TIGER", "KBSTAR", "ARIRANG", "HANARO", "SOL", "ACE"];
const ETF_THEMES: &[&str] = &[
    "200",
    "코스닥150",
    "미국S&P500",
    "미국나스닥100",
    "반도체",
    "2차전지산업",
    "인버스",
    "레버리지",
    "국고채10년",
    "골드선물(H)",
    "은행",
    "헬스케어",
];

/// `n` distinct listings, the same on every run.
fn listings(n: usize) -> Vec<Listing> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(n);
    let mut serial = 0u32;
    while out.len() < n {
        let etp = rng.next().is_multiple_of(10);
        let (name, kind) = if etp {
            let name = format!("{} {}", rng.pick(ETF_BRANDS), rng.pick(ETF_THEMES));
            let kind = if rng.next().is_multiple_of(5) {
                Kind::Etn
            } else {
                Kind::Etf
            };
            (name, kind)
        } else {
            let name = format!("{}{}{}", rng.pick(FIRST), rng.pick(SECOND), rng.pick(SUFFIX));
            (name, Kind::Stock)
        };
        let mut name = name;
        while !seen.insert(name.clone()) {
            // Look-alike names get a number, as KRX series do (…2호, …3호).
            serial += 1;
            name = format!("{name}{serial}");
        }
        out.push(Listing {
            code: format!("{:06}", 20 + out.len() * 35),
            name,
            market: if rng.next().is_multiple_of(2) {
                Market::Kospi
            } else {
                Market::Kosdaq
            },
            kind,
            market_cap: Some(rng.next() % 5_000_000),
            english_name: None,
        });
    }
    // The stocks the acceptance examples name, among the synthetic ones.
    out[100].name = "삼성전자".into();
    out[100].code = "005930".into();
    out[101].name = "NAVER".into();
    out[101].code = "035420".into();
    out
}

fn bench(c: &mut Criterion) {
    let all = listings(LISTINGS);
    let index = StockIndex::new(all.clone())
        .with_english_names([("005930", "Samsung Electronics"), ("035420", "NAVER Corp")]);
    assert_eq!(index.len(), LISTINGS);
    let samsung = index.search("ㅅㅅㅈㅈ", 20).unwrap();
    assert!(samsung.iter().any(|h| h.code == "005930"));
    let long = "가".repeat(64);
    let queries: [(&str, &str); 11] = [
        ("exact code", "005930"),
        ("code prefix", "0059"),
        ("name prefix", "삼성"),
        ("name substring", "바이오"),
        ("초성", "ㅅㅅㅈㅈ"),
        ("mixed 삼ㅅ", "삼ㅅ"),
        ("english", "samsung"),
        ("etf", "kodex 미국"),
        ("one jamo", "ㅎ"),
        ("one digit", "0"),
        ("64-char miss", long.as_str()),
    ];
    let mut group = c.benchmark_group("search_4000");
    for (label, q) in queries {
        let hits = index.search(q, 20).unwrap();
        eprintln!(
            "{label:>14}: {q:?} → {} hits, first {:?}",
            hits.len(),
            hits.first().map(|h| &h.name)
        );
        group.bench_function(label, |b| b.iter(|| index.search(black_box(q), 20)));
    }
    group.finish();
    c.bench_function("build_index_4000", |b| {
        b.iter(|| StockIndex::new(black_box(all.clone())))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
