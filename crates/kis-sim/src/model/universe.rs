//! The whole simulated market: 2,565 listings on KOSPI and KOSDAQ in the proportions of the real one
//! (late 2025: ~2,650 shares, ~950 ETFs, ~370 ETNs, scaled to a simulator's size), built once per process
//! and shared by every [`super::Market`] (the listing does not depend on the seed; prices do).
//!
//! | part | count | |
//! |---|---|---|
//! | the core table (`stocks`) | 76 | real large caps with their real codes and names, first in the list |
//! | KOSPI ordinary shares | 703 more (760 in all) | generated names |
//! | KOSDAQ ordinary shares | 1,031 more (1,050 in all) | generated names |
//! | 우선주 (preferred) | 100 | 14 real ones of the core's companies, the rest of generated companies |
//! | 리츠 (REITs) | 20 | KOSPI, group `RT` |
//! | SPACs | 65 | mostly KOSDAQ, `…제N호스팩` |
//! | ETFs | 420 | 21 real ones (KODEX 200 …), the rest brand × underlying |
//! | ETNs | 150 | issuer × underlying |
//!
//! Designations, on generated ordinary shares and SPACs only (the core keeps behaving as it always has),
//! smaller companies first, as on KRX: 거래정지 35 (two in three also 관리종목), 관리종목 70, 정리매매 2,
//! 투자주의 40, 투자경고 12, 투자위험 3, 위험예고 10, 불성실공시 25, 단기과열 5. A halted stock has no
//! trade today; a warned one is livelier and more traded.
//!
//! Market caps are log-normal (KOSPI median ~300 billion KRW, KOSDAQ ~100 billion), price levels
//! spread from a few hundred to a few hundred thousand won, so liquidity and volatility (see `profile`)
//! span the range of the real market. The list is ordered: the core table first, then every other
//! listing by market cap, largest first. Codes are six characters as on KRX (ordinary shares end in 0,
//! preferred shares in 5, 7 or 9, newer listings carry a letter like `0042K0`; ETNs start with 5);
//! ETN codes are queried with or without KIS's `Q` prefix. Generated names and codes are plausible, not
//! real (a generated code may belong to a real listing with another name).

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

use jiff::civil::Date;
use market::code::StockCode;
use market::krx::{Calendar, round_to_tick};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::names::{self, ETF_BRANDS, ETN_ISSUERS, Words};
use super::rng::normal;
use super::stocks::{self, Behaviour, Flags, MarketKind, Preferred, SecurityKind, StockInfo, Warning};

/// FNV-1a: the tables here are keyed by short codes and names, not by anything an attacker picks, and
/// building them is on the simulator's start-up path.
#[derive(Default, Clone, Copy)]
pub(crate) struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 = h;
    }
}

pub(crate) type FnvBuild = BuildHasherDefault<Fnv>;

/// The listing and each stock's price level (the previous close of the first simulated session).
pub(crate) struct Universe {
    pub stocks: Vec<StockInfo>,
    pub levels: Vec<i64>,
    pub index: HashMap<StockCode, usize, FnvBuild>,
}

impl Universe {
    /// The stock with `code`: also an ETN's code with KIS's `Q` prefix (`Q500012`).
    pub fn position(&self, code: &str) -> Option<usize> {
        let code = match code.strip_prefix('Q') {
            Some(rest) if rest.len() == 6 => rest,
            _ => code,
        };
        let code = StockCode::parse(code).ok()?;
        self.index.get(&code).copied()
    }
}

/// The universe, built on first use (a few milliseconds).
pub(crate) fn universe() -> &'static Universe {
    static UNIVERSE: OnceLock<Universe> = OnceLock::new();
    UNIVERSE.get_or_init(build)
}

/// A sector of ordinary shares: name, its industry words, weight on KOSPI, weight on KOSDAQ.
struct Sector {
    name: &'static str,
    words: Words,
    kospi: u32,
    kosdaq: u32,
}

const fn sector(name: &'static str, words: Words, kospi: u32, kosdaq: u32) -> Sector {
    Sector {
        name,
        words,
        kospi,
        kosdaq,
    }
}

#[rustfmt::skip]
const SECTORS: &[Sector] = &[
    sector("반도체", &[("반도체", "Semiconductor")], 3, 2),
    sector("반도체장비", &[("세미텍", "Semitech"), ("이엔지", "ENG"), ("테크", "Tech")], 1, 8),
    sector("반도체소재", &[("머티리얼즈", "Materials"), ("케미칼", "Chemical")], 1, 4),
    sector("반도체부품", &[("텍", "Tech"), ("엠텍", "Mtech")], 0, 3),
    sector("전자", &[("전자", "Electronics"), ("전기", "Electric"), ("일렉트릭", "Electric")], 4, 2),
    sector("전자부품", &[("전자부품", "Electronic Components"), ("옵틱스", "Optics"), ("디스플레이", "Display"), ("일렉트로닉스", "Electronics")], 3, 8),
    sector("통신장비", &[("네트웍스", "Networks"), ("텔레콤", "Telecom"), ("통신", "Communication")], 1, 3),
    sector("IT서비스", &[("정보통신", "Information & Communication"), ("아이앤씨", "I&C"), ("데이타", "Data")], 2, 2),
    sector("소프트웨어", &[("소프트", "Soft"), ("시스템", "Systems"), ("솔루션", "Solutions")], 1, 6),
    sector("2차전지", &[("에너지", "Energy"), ("배터리", "Battery"), ("전지", "Battery")], 1, 4),
    sector("화학", &[("화학", "Chemical"), ("케미칼", "Chemical"), ("화성", "Chemical"), ("소재", "Materials")], 7, 3),
    sector("정유", &[("석유", "Petroleum"), ("오일", "Oil")], 1, 0),
    sector("바이오", &[("바이오", "Bio"), ("바이오텍", "Biotech"), ("바이오사이언스", "Bioscience"), ("제노믹스", "Genomics"), ("테라퓨틱스", "Therapeutics"), ("셀", "Cell")], 2, 14),
    sector("제약", &[("제약", "Pharmaceutical"), ("약품", "Pharm"), ("팜", "Pharm")], 5, 4),
    sector("의료기기", &[("메디칼", "Medical"), ("메디텍", "Meditech"), ("헬스케어", "Healthcare"), ("덴탈", "Dental")], 1, 5),
    sector("자동차부품", &[("오토텍", "Autotech"), ("공업", "Industrial"), ("모터스", "Motors"), ("오토모티브", "Automotive")], 5, 4),
    sector("기계", &[("기계", "Machinery"), ("정밀", "Precision"), ("중공업", "Heavy Industries"), ("엔지니어링", "Engineering"), ("정공", "Precision")], 6, 5),
    sector("로봇", &[("로보틱스", "Robotics"), ("로봇", "Robot")], 0, 2),
    sector("조선", &[("조선", "Shipbuilding"), ("해양", "Marine")], 1, 1),
    sector("방산", &[("에어로", "Aero"), ("디펜스", "Defense")], 1, 1),
    sector("철강", &[("철강", "Steel"), ("제강", "Steel"), ("금속", "Metal"), ("스틸", "Steel")], 4, 2),
    sector("비철금속", &[("비철", "Nonferrous"), ("알미늄", "Aluminium")], 1, 1),
    sector("건설", &[("건설", "Construction"), ("건업", "Construction"), ("산업개발", "Development"), ("이앤씨", "E&C")], 5, 2),
    sector("식품", &[("식품", "Foods"), ("제과", "Confectionery"), ("푸드", "Food"), ("제당", "Sugar"), ("유업", "Dairy")], 5, 2),
    sector("섬유의복", &[("섬유", "Textile"), ("방직", "Spinning"), ("어패럴", "Apparel"), ("패션", "Fashion")], 4, 1),
    sector("제지", &[("제지", "Paper"), ("페이퍼", "Paper")], 2, 0),
    sector("유통", &[("물산", "Trading"), ("상사", "Trading"), ("인터내셔널", "International"), ("리테일", "Retail"), ("커머스", "Commerce")], 4, 2),
    sector("화장품", &[("화장품", "Cosmetics"), ("코스메틱", "Cosmetics"), ("뷰티", "Beauty")], 1, 2),
    sector("엔터", &[("엔터", "Entertainment"), ("스튜디오", "Studio"), ("콘텐츠", "Contents")], 1, 3),
    sector("미디어", &[("미디어", "Media"), ("방송", "Broadcasting")], 1, 2),
    sector("게임", &[("게임즈", "Games"), ("인터랙티브", "Interactive")], 1, 3),
    sector("교육", &[("에듀", "Education"), ("교육", "Education")], 1, 1),
    sector("레저", &[("레저", "Leisure"), ("리조트", "Resort"), ("호텔", "Hotel")], 1, 1),
    sector("전력", &[("전력", "Power"), ("에너지", "Energy")], 1, 0),
    sector("가스", &[("도시가스", "City Gas"), ("가스", "Gas")], 2, 1),
    sector("통신", &[("텔레콤", "Telecom")], 1, 0),
    sector("금융", &[("금융지주", "Financial Group"), ("은행", "Bank"), ("캐피탈", "Capital")], 3, 1),
    sector("증권", &[("증권", "Securities"), ("투자증권", "Investment & Securities")], 3, 1),
    sector("보험", &[("생명", "Life Insurance"), ("화재", "Fire & Marine Insurance"), ("손해보험", "General Insurance")], 2, 0),
    sector("해운", &[("해운", "Shipping"), ("상선", "Merchant Marine")], 1, 1),
    sector("운송", &[("물류", "Logistics"), ("운수", "Transport"), ("항공", "Airlines")], 2, 1),
    sector("지주", &[("홀딩스", "Holdings"), ("지주", "Holdings")], 4, 1),
];

/// An ETF or ETN underlying: Korean and English name, behaviour, price level range, daily turnover of
/// the shares in basis points (range).
struct Underlying {
    kr: &'static str,
    en: &'static str,
    behaviour: Behaviour,
    sector: &'static str,
    level: (f64, f64),
    turnover_bp: (f64, f64),
}

const fn track(leverage: i8, kosdaq: bool) -> Behaviour {
    Behaviour::Tracker {
        leverage,
        kosdaq,
        sector: false,
    }
}

const SECTOR_TRACK: Behaviour = Behaviour::Tracker {
    leverage: 1,
    kosdaq: false,
    sector: true,
};

const fn own(vol_bp: u16, beta_pct: i16) -> Behaviour {
    Behaviour::Own { vol_bp, beta_pct }
}

#[allow(clippy::too_many_arguments)] // one row of the table, one argument per column
const fn u(
    kr: &'static str,
    en: &'static str,
    behaviour: Behaviour,
    sector: &'static str,
    lo: f64,
    hi: f64,
    t_lo: f64,
    t_hi: f64,
) -> Underlying {
    Underlying {
        kr,
        en,
        behaviour,
        sector,
        level: (lo, hi),
        turnover_bp: (t_lo, t_hi),
    }
}

#[rustfmt::skip]
const ETF_UNDERLYINGS: &[Underlying] = &[
    u("200", "200", track(1, false), "지수", 30_000.0, 45_000.0, 100.0, 500.0),
    u("200TR", "200TR", track(1, false), "지수", 10_000.0, 20_000.0, 50.0, 200.0),
    u("코스피", "KOSPI", track(1, false), "지수", 25_000.0, 35_000.0, 30.0, 200.0),
    u("KRX300", "KRX300", track(1, false), "지수", 10_000.0, 20_000.0, 30.0, 150.0),
    u("코스피50", "KOSPI50", track(1, false), "지수", 20_000.0, 30_000.0, 20.0, 100.0),
    u("200동일가중", "200 Equal Weight", track(1, false), "지수", 10_000.0, 15_000.0, 20.0, 100.0),
    u("MSCI Korea", "MSCI Korea", track(1, false), "지수", 10_000.0, 15_000.0, 20.0, 100.0),
    u("고배당", "High Dividend", track(1, false), "지수", 10_000.0, 15_000.0, 30.0, 200.0),
    u("배당성장", "Dividend Growth", track(1, false), "지수", 10_000.0, 20_000.0, 20.0, 100.0),
    u("레버리지", "Leverage", track(2, false), "지수", 12_000.0, 25_000.0, 1_000.0, 3_000.0),
    u("200선물레버리지", "200 Futures Leverage", track(2, false), "지수", 10_000.0, 20_000.0, 300.0, 1_500.0),
    u("인버스", "Inverse", track(-1, false), "지수", 3_500.0, 6_000.0, 500.0, 1_500.0),
    u("200선물인버스2X", "200 Futures Inverse 2X", track(-2, false), "지수", 1_500.0, 3_000.0, 1_500.0, 3_000.0),
    u("코스닥150", "KOSDAQ150", track(1, true), "지수", 10_000.0, 15_000.0, 100.0, 500.0),
    u("코스닥150레버리지", "KOSDAQ150 Leverage", track(2, true), "지수", 6_000.0, 12_000.0, 1_000.0, 3_000.0),
    u("코스닥150선물인버스", "KOSDAQ150 Futures Inverse", track(-1, true), "지수", 3_000.0, 6_000.0, 500.0, 2_000.0),
    u("반도체", "Semiconductor", SECTOR_TRACK, "반도체", 10_000.0, 40_000.0, 100.0, 500.0),
    u("AI반도체", "AI Semiconductor", SECTOR_TRACK, "반도체", 10_000.0, 20_000.0, 100.0, 600.0),
    u("2차전지산업", "Secondary Battery", SECTOR_TRACK, "2차전지", 8_000.0, 20_000.0, 100.0, 800.0),
    u("2차전지TOP10", "Secondary Battery TOP10", SECTOR_TRACK, "2차전지", 5_000.0, 12_000.0, 100.0, 800.0),
    u("은행", "Banks", SECTOR_TRACK, "금융", 8_000.0, 15_000.0, 30.0, 200.0),
    u("증권", "Securities", SECTOR_TRACK, "증권", 6_000.0, 12_000.0, 30.0, 200.0),
    u("보험", "Insurance", SECTOR_TRACK, "보험", 8_000.0, 15_000.0, 20.0, 100.0),
    u("헬스케어", "Healthcare", SECTOR_TRACK, "바이오", 8_000.0, 20_000.0, 50.0, 300.0),
    u("바이오", "Bio", SECTOR_TRACK, "바이오", 6_000.0, 15_000.0, 50.0, 300.0),
    u("자동차", "Autos", SECTOR_TRACK, "자동차", 10_000.0, 25_000.0, 50.0, 300.0),
    u("조선", "Shipbuilding", SECTOR_TRACK, "조선", 8_000.0, 25_000.0, 100.0, 500.0),
    u("방산", "Defense", SECTOR_TRACK, "방산", 10_000.0, 30_000.0, 100.0, 600.0),
    u("건설", "Construction", SECTOR_TRACK, "건설", 5_000.0, 12_000.0, 30.0, 200.0),
    u("철강", "Steel", SECTOR_TRACK, "철강", 6_000.0, 12_000.0, 30.0, 200.0),
    u("에너지화학", "Energy & Chemicals", SECTOR_TRACK, "화학", 8_000.0, 15_000.0, 30.0, 200.0),
    u("미디어&엔터테인먼트", "Media & Entertainment", SECTOR_TRACK, "엔터", 5_000.0, 15_000.0, 50.0, 300.0),
    u("게임", "Game", SECTOR_TRACK, "게임", 5_000.0, 12_000.0, 50.0, 300.0),
    u("인터넷", "Internet", SECTOR_TRACK, "인터넷", 6_000.0, 15_000.0, 50.0, 300.0),
    u("화장품", "Cosmetics", SECTOR_TRACK, "화장품", 5_000.0, 12_000.0, 50.0, 300.0),
    u("K-뷰티", "K-Beauty", SECTOR_TRACK, "화장품", 8_000.0, 15_000.0, 50.0, 400.0),
    u("로봇", "Robotics", SECTOR_TRACK, "로봇", 8_000.0, 15_000.0, 100.0, 600.0),
    u("원자력", "Nuclear", SECTOR_TRACK, "기계", 8_000.0, 20_000.0, 100.0, 600.0),
    u("전력설비", "Power Equipment", SECTOR_TRACK, "기계", 10_000.0, 25_000.0, 100.0, 600.0),
    u("IT", "IT", SECTOR_TRACK, "전자", 15_000.0, 40_000.0, 30.0, 200.0),
    u("경기소비재", "Consumer Discretionary", SECTOR_TRACK, "유통", 8_000.0, 15_000.0, 20.0, 100.0),
    u("필수소비재", "Consumer Staples", SECTOR_TRACK, "식품", 8_000.0, 15_000.0, 20.0, 100.0),
    u("미국S&P500", "US S&P500", own(100, 20), "해외", 15_000.0, 25_000.0, 100.0, 400.0),
    u("미국나스닥100", "US NASDAQ100", own(130, 20), "해외", 12_000.0, 25_000.0, 100.0, 400.0),
    u("미국배당다우존스", "US Dividend Dow Jones", own(90, 15), "해외", 10_000.0, 15_000.0, 50.0, 300.0),
    u("미국테크TOP10", "US Tech TOP10", own(160, 20), "해외", 15_000.0, 30_000.0, 100.0, 500.0),
    u("미국필라델피아반도체", "US Philadelphia Semiconductor", own(200, 25), "해외", 15_000.0, 30_000.0, 100.0, 500.0),
    u("일본니케이225", "Japan Nikkei225", own(120, 20), "해외", 10_000.0, 20_000.0, 50.0, 300.0),
    u("차이나CSI300", "China CSI300", own(130, 15), "해외", 8_000.0, 15_000.0, 50.0, 300.0),
    u("인도Nifty50", "India Nifty50", own(90, 10), "해외", 10_000.0, 20_000.0, 50.0, 300.0),
    u("베트남VN30", "Vietnam VN30", own(120, 10), "해외", 8_000.0, 15_000.0, 30.0, 200.0),
    u("유로스탁스50", "Euro Stoxx50", own(110, 15), "해외", 10_000.0, 20_000.0, 20.0, 150.0),
    u("국고채3년", "KTB 3Y", own(10, -5), "채권", 55_000.0, 65_000.0, 20.0, 150.0),
    u("국고채10년", "KTB 10Y", own(35, -10), "채권", 55_000.0, 70_000.0, 20.0, 150.0),
    u("단기채권", "Short-term Bond", own(2, 0), "채권", 100_000.0, 115_000.0, 20.0, 200.0),
    u("종합채권(AA-이상)액티브", "Aggregate Bond Active", own(15, -5), "채권", 100_000.0, 115_000.0, 20.0, 100.0),
    u("미국채10년선물", "US Treasury 10Y Futures", own(50, -5), "채권", 10_000.0, 15_000.0, 30.0, 200.0),
    u("CD금리액티브", "CD Rate Active", own(1, 0), "채권", 50_000.0, 55_000.0, 100.0, 500.0),
    u("KOFR금리액티브", "KOFR Rate Active", own(1, 0), "채권", 100_000.0, 110_000.0, 100.0, 500.0),
    u("골드선물(H)", "Gold Futures(H)", own(90, 0), "원자재", 12_000.0, 20_000.0, 50.0, 300.0),
    u("WTI원유선물(H)", "WTI Crude Oil Futures(H)", own(200, 10), "원자재", 10_000.0, 18_000.0, 100.0, 600.0),
    u("은선물(H)", "Silver Futures(H)", own(150, 5), "원자재", 4_000.0, 8_000.0, 50.0, 300.0),
    u("구리실물", "Copper", own(130, 10), "원자재", 8_000.0, 12_000.0, 30.0, 200.0),
    u("미국달러선물", "US Dollar Futures", own(40, -15), "원자재", 10_000.0, 14_000.0, 30.0, 300.0),
    u("미국달러선물인버스", "US Dollar Futures Inverse", own(40, 15), "원자재", 8_000.0, 10_000.0, 30.0, 300.0),
];

#[rustfmt::skip]
const ETN_UNDERLYINGS: &[Underlying] = &[
    u("레버리지 WTI원유 선물", "Leverage WTI Crude Oil Futures", own(400, 20), "원자재", 3_000.0, 15_000.0, 200.0, 2_000.0),
    u("인버스 WTI원유 선물", "Inverse WTI Crude Oil Futures", own(200, -10), "원자재", 5_000.0, 15_000.0, 50.0, 800.0),
    u("인버스 2X WTI원유 선물", "Inverse 2X WTI Crude Oil Futures", own(400, -20), "원자재", 1_000.0, 8_000.0, 100.0, 1_500.0),
    u("레버리지 천연가스 선물", "Leverage Natural Gas Futures", own(600, 0), "원자재", 500.0, 5_000.0, 200.0, 3_000.0),
    u("인버스 2X 천연가스 선물", "Inverse 2X Natural Gas Futures", own(600, 0), "원자재", 1_000.0, 10_000.0, 100.0, 2_000.0),
    u("블룸버그 금 선물", "Bloomberg Gold Futures", own(90, 0), "원자재", 15_000.0, 25_000.0, 10.0, 200.0),
    u("레버리지 금 선물(H)", "Leverage Gold Futures(H)", own(180, 0), "원자재", 15_000.0, 30_000.0, 30.0, 400.0),
    u("레버리지 은 선물(H)", "Leverage Silver Futures(H)", own(300, 10), "원자재", 5_000.0, 15_000.0, 50.0, 800.0),
    u("인버스 구리 선물", "Inverse Copper Futures", own(130, -10), "원자재", 5_000.0, 10_000.0, 10.0, 200.0),
    u("미국 S&P500 VIX 선물", "US S&P500 VIX Futures", own(450, -30), "해외", 1_000.0, 8_000.0, 100.0, 2_000.0),
    u("레버리지 미국 나스닥100", "Leverage US NASDAQ100", own(260, 40), "해외", 15_000.0, 30_000.0, 30.0, 500.0),
    u("인버스 2X 나스닥100 선물", "Inverse 2X NASDAQ100 Futures", own(260, -40), "해외", 3_000.0, 10_000.0, 50.0, 800.0),
    u("중국 항셍테크", "China Hang Seng TECH", own(200, 15), "해외", 5_000.0, 12_000.0, 20.0, 300.0),
    u("레버리지 중국 CSI300", "Leverage China CSI300", own(260, 20), "해외", 5_000.0, 15_000.0, 20.0, 300.0),
    u("인도 Nifty50", "India Nifty50", own(90, 10), "해외", 10_000.0, 20_000.0, 10.0, 150.0),
    u("일본 엔 선물", "Japanese Yen Futures", own(60, -10), "원자재", 8_000.0, 12_000.0, 10.0, 150.0),
    u("인버스 2X 미국채 30년 선물", "Inverse 2X US Treasury 30Y Futures", own(200, 0), "채권", 5_000.0, 15_000.0, 20.0, 300.0),
    u("인버스 2X 코스닥150 선물", "Inverse 2X KOSDAQ150 Futures", track(-2, true), "지수", 2_000.0, 8_000.0, 100.0, 1_500.0),
    u("레버리지 코스피200 선물", "Leverage KOSPI200 Futures", track(2, false), "지수", 10_000.0, 25_000.0, 50.0, 800.0),
    u("코스피 변동성", "KOSPI Volatility", own(350, -40), "지수", 3_000.0, 10_000.0, 20.0, 400.0),
    u("KRX 2차전지 TOP10", "KRX Secondary Battery TOP10", SECTOR_TRACK, "2차전지", 5_000.0, 12_000.0, 20.0, 400.0),
    u("반도체 TOP10", "Semiconductor TOP10", SECTOR_TRACK, "반도체", 8_000.0, 15_000.0, 20.0, 300.0),
];

/// The core's preferred shares (real codes): code, name, English name, the company's code, level,
/// listed shares, 구형/신형.
#[rustfmt::skip]
const CORE_PREFERRED: &[(&str, &str, &str, &str, i64, u64, Preferred)] = &[
    ("005935", "삼성전자우", "Samsung Electronics (1P)", "005930", 78_000, 815_974_664, Preferred::Old),
    ("005385", "현대차우", "Hyundai Motor (1P)", "005380", 190_000, 24_737_967, Preferred::Old),
    ("005387", "현대차2우B", "Hyundai Motor (2PB)", "005380", 195_000, 36_613_865, Preferred::New),
    ("005389", "현대차3우B", "Hyundai Motor (3PB)", "005380", 188_000, 2_428_487, Preferred::New),
    ("066575", "LG전자우", "LG Electronics (1P)", "066570", 45_000, 17_185_992, Preferred::Old),
    ("051915", "LG화학우", "LG Chem (1P)", "051910", 190_000, 7_688_800, Preferred::Old),
    ("006405", "삼성SDI우", "Samsung SDI (1P)", "006400", 180_000, 1_515_983, Preferred::Old),
    ("003555", "LG우", "LG Corp. (1P)", "003550", 60_000, 15_286_286, Preferred::Old),
    ("000815", "삼성화재우", "Samsung Fire & Marine Insurance (1P)", "000810", 350_000, 3_059_000, Preferred::Old),
    ("009155", "삼성전기우", "Samsung Electro-Mechanics (1P)", "009150", 85_000, 1_861_711, Preferred::Old),
    ("090435", "아모레퍼시픽우", "Amorepacific (1P)", "090430", 55_000, 10_533_732, Preferred::Old),
    ("097955", "CJ제일제당 우", "CJ CheilJedang (1P)", "097950", 200_000, 1_744_014, Preferred::Old),
    ("010955", "S-Oil우", "S-Oil (1P)", "010950", 50_000, 3_640_628, Preferred::Old),
    ("096775", "SK이노베이션우", "SK Innovation (1P)", "096770", 70_000, 1_266_620, Preferred::Old),
];

/// Real ETFs (code, name, English name, underlying index in [`ETF_UNDERLYINGS`] by Korean name, level,
/// listed shares).
#[rustfmt::skip]
const CORE_ETFS: &[(&str, &str, &str, &str, i64, u64)] = &[
    ("069500", "KODEX 200", "KODEX 200", "200", 40_000, 150_000_000),
    ("102110", "TIGER 200", "TIGER 200", "200", 40_100, 60_000_000),
    ("122630", "KODEX 레버리지", "KODEX Leverage", "레버리지", 20_000, 100_000_000),
    ("114800", "KODEX 인버스", "KODEX Inverse", "인버스", 4_500, 300_000_000),
    ("252670", "KODEX 200선물인버스2X", "KODEX 200 Futures Inverse 2X", "200선물인버스2X", 2_000, 900_000_000),
    ("229200", "KODEX 코스닥150", "KODEX KOSDAQ150", "코스닥150", 12_000, 60_000_000),
    ("233740", "KODEX 코스닥150레버리지", "KODEX KOSDAQ150 Leverage", "코스닥150레버리지", 8_000, 150_000_000),
    ("251340", "KODEX 코스닥150선물인버스", "KODEX KOSDAQ150 Futures Inverse", "코스닥150선물인버스", 4_500, 150_000_000),
    ("360750", "TIGER 미국S&P500", "TIGER US S&P500", "미국S&P500", 21_000, 400_000_000),
    ("133690", "TIGER 미국나스닥100", "TIGER US NASDAQ100", "미국나스닥100", 140_000, 30_000_000),
    ("379800", "KODEX 미국S&P500TR", "KODEX US S&P500TR", "미국S&P500", 20_000, 150_000_000),
    ("379810", "KODEX 미국나스닥100TR", "KODEX US NASDAQ100TR", "미국나스닥100", 22_000, 100_000_000),
    ("381170", "TIGER 미국테크TOP10 INDXX", "TIGER US Tech TOP10 INDXX", "미국테크TOP10", 25_000, 150_000_000),
    ("305720", "KODEX 2차전지산업", "KODEX Secondary Battery Industry", "2차전지산업", 12_000, 100_000_000),
    ("091230", "TIGER 반도체", "TIGER Semiconductor", "반도체", 40_000, 8_000_000),
    ("091160", "KODEX 반도체", "KODEX Semiconductor", "반도체", 45_000, 15_000_000),
    ("091170", "KODEX 은행", "KODEX Banks", "은행", 10_000, 30_000_000),
    ("114260", "KODEX 국고채3년", "KODEX KTB 3Y", "국고채3년", 60_000, 4_000_000),
    ("153130", "KODEX 단기채권", "KODEX Short-term Bond", "단기채권", 110_000, 20_000_000),
    ("132030", "KODEX 골드선물(H)", "KODEX Gold Futures(H)", "골드선물(H)", 17_000, 20_000_000),
    ("261220", "KODEX WTI원유선물(H)", "KODEX WTI Crude Oil Futures(H)", "WTI원유선물(H)", 15_000, 20_000_000),
];

/// REIT name words.
const REIT_WORDS: &[&str] = &[
    "한빛",
    "누리",
    "다올",
    "코람코",
    "마스턴",
    "이지스",
    "디앤디",
    "케이탑",
    "제이알",
    "에이원",
    "신한서부",
    "미래에셋",
    "대신밸류",
    "NH올원",
    "KB스타",
    "한화",
    "롯데",
    "SK",
    "ESR",
    "하나",
];

/// SPAC issuers (securities firms).
const SPAC_ISSUERS: &[&str] = &[
    "미래에셋비전",
    "하나",
    "신한",
    "IBKS",
    "KB",
    "대신밸런스",
    "유안타",
    "NH",
    "교보",
    "DB금융",
    "키움",
    "한국",
    "SK증권",
    "하이",
    "상상인",
    "신영",
    "유진",
    "한화플러스",
    "BNK",
    "엔에이치",
    "에이치엠씨아이비",
    "케이비",
];

/// Codes the simulator must not list (the tests' unknown codes among them).
const RESERVED: &[&str] = &["000000", "999999", "999990", "123456"];

fn build() -> Universe {
    let (core, core_levels) = stocks::build();
    let mut b = Builder {
        rng: ChaCha8Rng::seed_from_u64(0x4B52_5855_4E49), // "KRXUNI"
        codes: RESERVED.iter().filter_map(|c| StockCode::parse(c).ok()).collect(),
        names: HashSet::with_capacity_and_hasher(4_096, FnvBuild::default()),
        entries: Vec::with_capacity(2_600),
    };
    for info in &core {
        b.reserve(info.code, info.name);
    }
    for &(code, name, _, _, _, _, _) in CORE_PREFERRED {
        b.reserve_str(code, name);
    }
    for &(code, name, _, _, _, _) in CORE_ETFS {
        b.reserve_str(code, name);
    }
    b.core_preferred(&core);
    let kospi = b.companies(
        MarketKind::Kospi,
        760 - core.iter().filter(|s| s.market == MarketKind::Kospi).count(),
        300.0e9,
        1.5,
    );
    let _ = b.companies(
        MarketKind::Kosdaq,
        1_050 - core.iter().filter(|s| s.market == MarketKind::Kosdaq).count(),
        100.0e9,
        1.0,
    );
    b.preferred_of(&kospi, 81, MarketKind::Kospi);
    let kosdaq: Vec<usize> = (0..b.entries.len())
        .filter(|&i| {
            b.entries[i].info.market == MarketKind::Kosdaq
                && b.entries[i].info.flags.preferred == Preferred::No
        })
        .collect();
    b.preferred_of(&kosdaq, 5, MarketKind::Kosdaq);
    b.reits(20);
    b.spacs(3, MarketKind::Kospi);
    b.spacs(62, MarketKind::Kosdaq);
    b.core_etfs();
    b.etfs(420 - CORE_ETFS.len());
    b.etns(150);
    b.designate();

    // Order: the core table, then by market cap; sizes and index membership by rank.
    let mut rest = std::mem::take(&mut b.entries);
    rest.sort_by(|a, b| b.cap().total_cmp(&a.cap()).then(a.info.code.cmp(&b.info.code)));
    let mut all: Vec<Entry> = core
        .iter()
        .zip(&core_levels)
        .map(|(info, &level)| Entry { info: *info, level })
        .collect();
    all.extend(rest);
    rank(&mut all);
    let index = all
        .iter()
        .enumerate()
        .map(|(i, e)| (e.info.code, i))
        .collect::<HashMap<_, _, FnvBuild>>();
    Universe {
        stocks: all.iter().map(|e| e.info).collect(),
        levels: all.iter().map(|e| e.level).collect(),
        index,
    }
}

/// 시가총액규모 and index membership by market-cap rank among each market's ordinary shares.
fn rank(all: &mut [Entry]) {
    for (market, large, mid, members) in [
        (MarketKind::Kospi, 100, 300, 200),
        (MarketKind::Kosdaq, 100, 400, 150),
    ] {
        let mut order: Vec<usize> = (0..all.len())
            .filter(|&i| {
                let s = &all[i].info;
                s.market == market
                    && s.kind == SecurityKind::Stock
                    && !s.flags.spac
                    && s.flags.preferred == Preferred::No
            })
            .collect();
        order.sort_by(|&a, &b| all[b].cap().total_cmp(&all[a].cap()));
        let mut taken = 0;
        for (r, &i) in order.iter().enumerate() {
            let info = &mut all[i].info;
            info.cap_size = if r < large {
                1
            } else if r < mid {
                2
            } else {
                3
            };
            // The index committee skips halted and administrative issues.
            if taken < members && !info.flags.halted && !info.flags.administrative {
                info.index_member = true;
                taken += 1;
            }
        }
        for e in all.iter_mut() {
            let s = &mut e.info;
            if s.market == market && s.kind == SecurityKind::Stock && s.cap_size == 0 {
                s.cap_size = 3;
            }
        }
    }
}

struct Entry {
    info: StockInfo,
    level: i64,
}

impl Entry {
    fn cap(&self) -> f64 {
        self.level as f64 * self.info.listed_shares as f64
    }
}

struct Builder {
    rng: ChaCha8Rng,
    codes: HashSet<StockCode, FnvBuild>,
    names: HashSet<String, FnvBuild>,
    entries: Vec<Entry>,
}

/// The universe is built once per process and never dropped (a `static`), so its generated names are
/// handed out as `&'static str`: one allocation each, ~100 KB in all, once.
fn keep(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

impl Builder {
    fn reserve(&mut self, code: StockCode, name: &str) {
        self.codes.insert(code);
        self.names.insert(name.to_string());
    }

    fn reserve_str(&mut self, code: &str, name: &str) {
        if let Ok(code) = StockCode::parse(code) {
            self.reserve(code, name);
        }
    }

    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.rng.random::<f64>()
    }

    fn log_uniform(&mut self, lo: f64, hi: f64) -> f64 {
        self.uniform(lo.ln(), hi.ln()).exp()
    }

    /// A new code: six digits ending in 0 (`digits`: the first digit's range), or now and then a newer
    /// listing's `00NNX0`.
    fn code(&mut self, first: std::ops::Range<u32>, newer: f64) -> StockCode {
        loop {
            let mut b = [b'0'; 6];
            if self.rng.random_bool(newer) {
                let n = self.rng.random_range(0..100u8);
                b[2] = b'0' + n / 10;
                b[3] = b'0' + n % 10;
                b[4] = b'A' + self.rng.random_range(0..26u8);
            } else {
                let head = self.rng.random_range(first.clone()).min(9) as u8;
                let mut n = self.rng.random_range(0..10_000u16);
                b[0] = b'0' + head;
                for i in (1..5).rev() {
                    b[i] = b'0' + (n % 10) as u8;
                    n /= 10;
                }
            }
            // Six ASCII digits and capitals: always a code.
            let s = std::str::from_utf8(&b).unwrap_or("000000");
            if let Ok(code) = StockCode::parse(s)
                && self.codes.insert(code)
            {
                return code;
            }
        }
    }

    fn take_name(&mut self, name: String) -> &'static str {
        self.names.insert(name.clone());
        keep(name)
    }

    fn listing_date(&mut self, from: i16, to: i16) -> Date {
        let year = self.rng.random_range(from..=to);
        let day =
            Date::new(year, self.rng.random_range(1..=12), self.rng.random_range(1..=28)).unwrap_or_default();
        Calendar::krx().next_trading_day(day)
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        code: StockCode,
        name: &'static str,
        eng_name: &'static str,
        market: MarketKind,
        sector: &'static str,
        level: f64,
        listed_shares: u64,
        face_value: i64,
        kind: SecurityKind,
        flags: Flags,
        listing_date: Date,
        turnover_bp: u16,
        behaviour: Behaviour,
    ) -> usize {
        let level = round_to_tick((level.round() as i64).max(1)).max(1);
        self.entries.push(Entry {
            info: StockInfo {
                code,
                name,
                eng_name,
                market,
                sector,
                listed_shares: listed_shares.max(1_000),
                face_value,
                kind,
                flags,
                cap_size: 0,
                index_member: false,
                listing_date,
                turnover_bp,
                behaviour,
            },
            level,
        });
        self.entries.len() - 1
    }

    fn core_preferred(&mut self, core: &[StockInfo]) {
        for &(code, name, eng, of, level, shares, kind) in CORE_PREFERRED {
            let (Ok(code), Some(company)) = (
                StockCode::parse(code),
                core.iter().find(|s| s.code.as_str() == of),
            ) else {
                continue;
            };
            let flags = Flags {
                preferred: kind,
                ..Flags::default()
            };
            let turnover = self.uniform(5.0, 30.0) as u16;
            let date = self.listing_date(1976, 2000);
            self.push(
                code,
                name,
                eng,
                company.market,
                company.sector,
                level as f64,
                shares,
                company.face_value,
                SecurityKind::Stock,
                flags,
                date,
                turnover,
                Behaviour::Equity,
            );
        }
    }

    /// `n` generated ordinary shares on `market`; returns their indices.
    fn companies(&mut self, market: MarketKind, n: usize, median_cap: f64, spread: f64) -> Vec<usize> {
        let weights: Vec<(usize, u32)> = SECTORS
            .iter()
            .enumerate()
            .map(|(i, s)| {
                (
                    i,
                    if market == MarketKind::Kospi {
                        s.kospi
                    } else {
                        s.kosdaq
                    },
                )
            })
            .filter(|(_, w)| *w > 0)
            .collect();
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let sector = &SECTORS[names::weighted(&mut self.rng, &weights)];
            let taken = &self.names;
            let (kr, en) = names::company(&mut self.rng, sector.words, &|name| taken.contains(name));
            let cap = (median_cap.ln() + spread * normal(&mut self.rng))
                .exp()
                .clamp(5.0e9, 200.0e12);
            // Prices from a few hundred won to a few hundred thousand, higher for bigger companies.
            let price_centre: f64 = if market == MarketKind::Kospi {
                15_000.0
            } else {
                7_000.0
            };
            let size_tilt = (cap / median_cap).powf(0.25);
            let level = (price_centre.ln() + 1.0 * normal(&mut self.rng)).exp() * size_tilt;
            let level = level.clamp(300.0, 900_000.0);
            let face = if market == MarketKind::Kospi {
                [5_000, 5_000, 1_000, 500, 500, 100, 2_500, 200][self.rng.random_range(0..8)]
            } else {
                [500, 500, 500, 100, 100, 200, 1_000][self.rng.random_range(0..7)]
            };
            let code = self.code(0..5, 0.05);
            let name = self.take_name(kr);
            let date = self.listing_date(1976, 2025);
            let i = self.push(
                code,
                name,
                keep(en),
                market,
                sector.name,
                level,
                (cap / level) as u64,
                face,
                SecurityKind::Stock,
                Flags::default(),
                date,
                0,
                Behaviour::Equity,
            );
            out.push(i);
        }
        out
    }

    /// Preferred shares of `n` of the companies `of` (the larger ones more often).
    fn preferred_of(&mut self, of: &[usize], n: usize, market: MarketKind) {
        let mut candidates: Vec<usize> = of
            .iter()
            .copied()
            .filter(|&i| self.entries[i].info.code.as_str().ends_with('0'))
            .collect();
        candidates.sort_by(|&a, &b| self.entries[b].cap().total_cmp(&self.entries[a].cap()));
        candidates.truncate(n * 3);
        let mut made = 0;
        while made < n && !candidates.is_empty() {
            let i = candidates.remove(self.rng.random_range(0..candidates.len()));
            let company = self.entries[i].info;
            let base = &company.code.as_str()[..5];
            let (digit, suffix, en, kind) = if self.rng.random_bool(0.75) {
                ('5', "우", "(1P)", Preferred::Old)
            } else {
                ('7', "2우B", "(2PB)", Preferred::New)
            };
            let Ok(code) = StockCode::parse(&format!("{base}{digit}")) else {
                continue;
            };
            let name = format!("{}{suffix}", company.name);
            if self.codes.contains(&code) || self.names.contains(&name) || name.len() > 38 {
                continue;
            }
            self.codes.insert(code);
            let level = self.entries[i].level as f64 * self.uniform(0.55, 0.9);
            let shares = (company.listed_shares as f64 * self.uniform(0.03, 0.15)) as u64;
            let flags = Flags {
                preferred: kind,
                ..Flags::default()
            };
            let name = self.take_name(name);
            let eng = keep(format!("{} {en}", company.eng_name));
            let turnover = self.uniform(5.0, 40.0) as u16;
            self.push(
                code,
                name,
                eng,
                market,
                company.sector,
                level,
                shares,
                company.face_value,
                SecurityKind::Stock,
                flags,
                company.listing_date,
                turnover,
                Behaviour::Equity,
            );
            made += 1;
        }
    }

    fn reits(&mut self, n: usize) {
        let mut made = 0;
        while made < n {
            let word = REIT_WORDS[self.rng.random_range(0..REIT_WORDS.len())];
            let tail =
                ["리츠", "밸류리츠", "글로벌리츠", "프라임리츠", "인프라리츠"][self.rng.random_range(0..5)];
            let kr = format!("{word}{tail}");
            if self.names.contains(&kr) {
                continue;
            }
            let en = format!("{} REIT", names::romanize(word));
            let code = self.code(3..5, 0.2);
            let name = self.take_name(kr);
            let level = self.uniform(2_800.0, 6_500.0);
            let shares = (self.log_uniform(150.0e9, 1.5e12) / level) as u64;
            let turnover = self.uniform(10.0, 40.0) as u16;
            let date = self.listing_date(2016, 2024);
            self.push(
                code,
                name,
                keep(en),
                MarketKind::Kospi,
                "리츠",
                level,
                shares,
                500,
                SecurityKind::Reit,
                Flags::default(),
                date,
                turnover,
                Behaviour::Equity,
            );
            made += 1;
        }
    }

    fn spacs(&mut self, n: usize, market: MarketKind) {
        let mut made = 0;
        while made < n {
            let issuer = SPAC_ISSUERS[self.rng.random_range(0..SPAC_ISSUERS.len())];
            let number = self.rng.random_range(1..=35);
            let kr = if self.rng.random_bool(0.5) {
                format!("{issuer}제{number}호스팩")
            } else {
                format!("{issuer}{number}호스팩")
            };
            if self.names.contains(&kr) || kr.len() > 38 {
                continue;
            }
            let issuer_en: String = if issuer.is_ascii() {
                issuer.to_string()
            } else {
                names::romanize(issuer)
            };
            let en = format!("{issuer_en} SPAC No.{number}");
            let code = self.code(4..5, 0.4);
            let name = self.take_name(kr);
            let level = self.uniform(1_950.0, 2_600.0);
            let shares = self.uniform(4.0e6, 15.0e6) as u64;
            let flags = Flags {
                spac: true,
                ..Flags::default()
            };
            let turnover = self.uniform(5.0, 60.0) as u16;
            let date = self.listing_date(2022, 2025);
            self.push(
                code,
                name,
                keep(en),
                market,
                "SPAC",
                level,
                shares,
                100,
                SecurityKind::Stock,
                flags,
                date,
                turnover,
                Behaviour::Equity,
            );
            made += 1;
        }
    }

    fn core_etfs(&mut self) {
        for &(code, name, eng, underlying, level, shares) in CORE_ETFS {
            let (Ok(code), Some(u)) = (
                StockCode::parse(code),
                ETF_UNDERLYINGS.iter().find(|u| u.kr == underlying),
            ) else {
                continue;
            };
            let turnover = self.uniform(u.turnover_bp.0, u.turnover_bp.1) as u16;
            let date = self.listing_date(2002, 2021);
            self.push(
                code,
                name,
                eng,
                MarketKind::Kospi,
                u.sector,
                level as f64,
                shares,
                0,
                SecurityKind::Etf,
                Flags::default(),
                date,
                turnover,
                u.behaviour,
            );
        }
    }

    fn etfs(&mut self, n: usize) {
        let mut made = 0;
        while made < n {
            let brand = names::weighted(&mut self.rng, ETF_BRANDS);
            let u = &ETF_UNDERLYINGS[self.rng.random_range(0..ETF_UNDERLYINGS.len())];
            let kr = format!("{brand} {}", u.kr);
            if self.names.contains(&kr) {
                // The series is taken: an active or a second fund of it now and then.
                continue;
            }
            let en = format!("{brand} {}", u.en);
            let code = self.code(1..5, 0.15);
            let name = self.take_name(kr);
            let level = self.uniform(u.level.0, u.level.1);
            let aum = (25.0e9_f64.ln() + 1.3 * normal(&mut self.rng))
                .exp()
                .clamp(2.0e9, 5.0e12);
            let turnover = self.log_uniform(u.turnover_bp.0.max(1.0), u.turnover_bp.1.max(2.0)) as u16;
            let date = self.listing_date(2005, 2025);
            self.push(
                code,
                name,
                keep(en),
                MarketKind::Kospi,
                u.sector,
                level,
                (aum / level) as u64,
                0,
                SecurityKind::Etf,
                Flags::default(),
                date,
                turnover,
                u.behaviour,
            );
            made += 1;
        }
    }

    fn etns(&mut self, n: usize) {
        let issuers: Vec<((&'static str, &'static str), u32)> =
            ETN_ISSUERS.iter().map(|&(kr, en, w)| ((kr, en), w)).collect();
        let mut made = 0;
        while made < n {
            let (issuer, issuer_en) = names::weighted(&mut self.rng, &issuers);
            let u = &ETN_UNDERLYINGS[self.rng.random_range(0..ETN_UNDERLYINGS.len())];
            let kr = format!("{issuer} {} ETN", u.kr);
            if self.names.contains(&kr) || kr.len() > 60 {
                continue;
            }
            // KIS's master holds at most 40 bytes of cp949; the check is on the encoded name.
            let (encoded, _, _) = encoding_rs::EUC_KR.encode(&kr);
            if encoded.len() > 40 {
                continue;
            }
            let en = format!("{issuer_en} {} ETN", u.en);
            let code = loop {
                let s = format!("5{:05}", self.rng.random_range(0..100_000));
                if let Ok(code) = StockCode::parse(&s)
                    && self.codes.insert(code)
                {
                    break code;
                }
            };
            let name = self.take_name(kr);
            let level = self.uniform(u.level.0, u.level.1);
            let size = (8.0e9_f64.ln() + 1.0 * normal(&mut self.rng))
                .exp()
                .clamp(1.0e9, 1.0e12);
            let turnover = self.log_uniform(u.turnover_bp.0.max(1.0), u.turnover_bp.1.max(2.0)) as u16;
            let date = self.listing_date(2015, 2025);
            self.push(
                code,
                name,
                keep(en),
                MarketKind::Kospi,
                u.sector,
                level,
                (size / level) as u64,
                0,
                SecurityKind::Etn,
                Flags::default(),
                date,
                turnover,
                u.behaviour,
            );
            made += 1;
        }
    }

    /// The exchange's designations, on generated ordinary shares and SPACs, smaller companies first.
    fn designate(&mut self) {
        let mut pool: Vec<usize> = (0..self.entries.len())
            .filter(|&i| {
                let s = &self.entries[i].info;
                s.kind == SecurityKind::Stock && s.flags.preferred == Preferred::No
            })
            .collect();
        // Small caps are designated far more often: a random draw weighted by 1/cap^0.3.
        let mut keyed: Vec<(f64, usize)> = pool
            .drain(..)
            .map(|i| {
                let u: f64 = 1.0 - self.rng.random::<f64>();
                let weight = (1.0e11 / self.entries[i].cap()).powf(0.3);
                // Efraimidis–Spirakis: a weighted sample without replacement by u^(1/w).
                (u.powf(1.0 / weight), i)
            })
            .collect();
        keyed.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut order = keyed.into_iter().map(|(_, i)| i);
        let mut next = |b: &mut Builder, f: &dyn Fn(&mut Flags), spac_ok: bool| {
            for i in order.by_ref() {
                if b.entries[i].info.flags.spac && !spac_ok {
                    continue;
                }
                f(&mut b.entries[i].info.flags);
                return Some(i);
            }
            None
        };
        let mut halted = Vec::new();
        for k in 0..35 {
            if let Some(i) = next(self, &|f| f.halted = true, true) {
                if k % 3 != 2 {
                    self.entries[i].info.flags.administrative = true;
                }
                halted.push(i);
            }
        }
        let administrative_more = 70
            - halted
                .iter()
                .filter(|&&i| self.entries[i].info.flags.administrative)
                .count();
        for k in 0..administrative_more {
            let _ = next(
                self,
                &move |f| {
                    f.administrative = true;
                    f.liquidation = k < 2;
                },
                false,
            );
        }
        for (n, w) in [(40, Warning::Caution), (12, Warning::Warning), (3, Warning::Risk)] {
            for _ in 0..n {
                let _ = next(self, &move |f| f.warning = w, false);
            }
        }
        for _ in 0..10 {
            let _ = next(self, &|f| f.warning_notice = true, false);
        }
        for _ in 0..25 {
            let _ = next(self, &|f| f.unfaithful_disclosure = true, false);
        }
        for _ in 0..5 {
            let _ = next(self, &|f| f.overheated = true, false);
        }
        // Designated stocks are the market's lively ones: more traded (warned, overheated) or less.
        for e in &mut self.entries {
            let f = e.info.flags;
            if f.warning != Warning::None || f.overheated {
                e.info.turnover_bp = 300;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_universe_has_the_market_s_proportions() {
        let u = universe();
        let n = u.stocks.len();
        assert!((2_400..=2_700).contains(&n), "{n} listings");
        let count = |f: &dyn Fn(&StockInfo) -> bool| u.stocks.iter().filter(|s| f(s)).count();
        assert_eq!(count(&|s| s.kind == SecurityKind::Etf), 420);
        assert_eq!(count(&|s| s.kind == SecurityKind::Etn), 150);
        assert_eq!(count(&|s| s.kind == SecurityKind::Reit), 20);
        assert_eq!(count(&|s| s.flags.spac), 65);
        assert_eq!(count(&|s| s.flags.preferred != Preferred::No), 100);
        assert_eq!(count(&|s| s.flags.halted), 35);
        assert_eq!(count(&|s| s.flags.administrative), 70);
        assert_eq!(count(&|s| s.flags.warning == Warning::Risk), 3);
        assert_eq!(
            count(&|s| s.market == MarketKind::Kosdaq
                && s.kind == SecurityKind::Stock
                && !s.flags.spac
                && s.flags.preferred == Preferred::No),
            1_050
        );
        assert_eq!(count(&|s| s.index_member && s.market == MarketKind::Kospi), 200);
        assert_eq!(count(&|s| s.cap_size == 1), 200);
    }

    #[test]
    fn the_core_comes_first_unchanged_and_codes_and_names_are_unique() {
        let u = universe();
        let (core, levels) = stocks::build();
        for (i, s) in core.iter().enumerate() {
            assert_eq!(
                (u.stocks[i].code, u.stocks[i].name, u.levels[i]),
                (s.code, s.name, levels[i])
            );
            assert_eq!(u.stocks[i].flags, Flags::default());
        }
        let names: HashSet<&str> = u.stocks.iter().map(|s| s.name).collect();
        assert!(u.stocks.iter().all(|s| s.code.as_str().len() == 6));
        assert_eq!(names.len(), u.stocks.len());
        assert_eq!(u.index.len(), u.stocks.len());
        for reserved in RESERVED {
            assert_eq!(u.position(reserved), None);
        }
        for (i, s) in u.stocks.iter().enumerate() {
            assert!(market::krx::is_on_tick(u.levels[i]) && u.levels[i] > 0, "{s:?}");
            assert!(!s.eng_name.is_empty() && s.eng_name.is_ascii(), "{}", s.eng_name);
            let (bytes, _, bad) = encoding_rs::EUC_KR.encode(s.name);
            assert!(!bad && bytes.len() <= 40, "{}", s.name);
        }
        assert!(u.stocks.iter().filter(|s| s.name.contains("삼성")).count() < 60);
        let etn = u.stocks.iter().find(|s| s.kind == SecurityKind::Etn).unwrap();
        assert_eq!(
            u.position(&format!("Q{}", etn.code)),
            u.position(etn.code.as_str())
        );
    }
}
