//! The backfill: history fetching with progress, enough stored bars for MA240 on every period the enabled
//! conditions use, fetched once and kept.
//!
//! * Needs: daily bars for D/W/M (240 bars of the period), and 1-minute bars for intraday periods
//!   (240 bars × the period's minutes: 7,200 for 30m, about 19 sessions). Past sessions' minutes come
//!   from the past-day minute chart (real accounts and real-like servers); on VTS only today's
//!   minutes exist upstream, so the progress says the average is not available yet rather than the
//!   chart showing a wrong one.
//! * Order: an open detail page first, then stocks with conditions, then the rest of the watchlist;
//!   jobs advance one session (or one daily range) per step, so a page opened while a long backfill
//!   runs is served at the next step.
//! * Nothing stored is fetched again: complete past sessions are recorded (`minute_days`) and the
//!   daily range covered (`daily_coverage`); after a restart only what is missing is asked for.
//! * Progress per stock: bars have/need, upstream calls left and an estimated time, in the API.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::civil::Date;
use kis::Priority;
use market::krx::Calendar;
use market::{Period, StockCode};
use serde::Serialize;
use tokio::sync::{Notify, broadcast};

pub use crate::contract::{BackfillProgress as Progress, BarCount as Have, Urgency};

use super::daily::ensure_daily;
use super::{LONGEST_AVERAGE, SESSION_MINUTES};
use crate::store::{MinuteDay, Store};
use crate::upstream::{Gateway, GatewayError};

/// Past-day minute bars per upstream call.
const PAST_MINUTES_PER_CALL: usize = 120;

/// How much history a stock needs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Need {
    /// 1-minute bars (today's included).
    pub minutes: usize,
    /// Daily bars before today.
    pub daily: usize,
}

impl Need {
    /// Enough for MA240 (plus `extra` bars to show) on each of `periods`.
    pub fn for_periods(periods: impl IntoIterator<Item = Period>, extra: usize) -> Need {
        let mut need = Need::default();
        for p in periods {
            let bars = LONGEST_AVERAGE + extra;
            match p.minutes() {
                Some(m) => need.minutes = need.minutes.max(bars * m as usize),
                None => {
                    let days = match p {
                        Period::Week => bars * 5,
                        Period::Month => bars * 21,
                        _ => bars,
                    };
                    need.daily = need.daily.max(days);
                }
            }
        }
        need
    }

    fn max(self, other: Need) -> Need {
        Need {
            minutes: self.minutes.max(other.minutes),
            daily: self.daily.max(other.daily),
        }
    }
}

/// What changed, for listeners (the trigger service reseeds its engine).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Advanced {
    pub code: StockCode,
}

struct Job {
    urgency: Urgency,
    need: Need,
    done: bool,
    progress: Progress,
    /// Past sessions with nothing upstream (history ends, or VTS).
    minutes_exhausted: bool,
    daily_done: bool,
    /// Steps taken: jobs of the same urgency advance breadth-first, a session each in turn.
    steps: u32,
}

/// The backfill service. Cheap to share (`Arc`).
pub struct Backfill {
    gateway: Arc<Gateway>,
    store: Store,
    has_past_minutes: bool,
    rate: u32,
    jobs: Mutex<HashMap<StockCode, Job>>,
    wake: Notify,
    events: broadcast::Sender<Advanced>,
}

impl Backfill {
    pub fn new(gateway: Arc<Gateway>, store: Store, has_past_minutes: bool) -> Arc<Backfill> {
        let rate = gateway.client().environment().rate();
        Arc::new(Backfill {
            gateway,
            store,
            has_past_minutes,
            rate,
            jobs: Mutex::new(HashMap::new()),
            wake: Notify::new(),
            events: broadcast::channel(256).0,
        })
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Advanced> {
        self.events.subscribe()
    }

    /// Asks for `need` of `code` at `urgency` (a more urgent or larger request upgrades the job).
    pub fn request(&self, code: StockCode, urgency: Urgency, need: Need) {
        let mut jobs = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
        let job = jobs.entry(code).or_insert_with(|| Job {
            urgency,
            need,
            done: false,
            progress: Progress {
                code: code.to_string(),
                urgency,
                minutes: Have::default(),
                daily: Have::default(),
                calls_left: 0,
                eta_secs: 0.0,
                done: false,
                note: None,
                error: None,
            },
            minutes_exhausted: false,
            daily_done: false,
            steps: 0,
        });
        let grown = need.max(job.need);
        if urgency < job.urgency || grown != job.need {
            job.done = false;
            if grown.daily > job.need.daily {
                job.daily_done = false;
            }
        }
        job.urgency = job.urgency.min(urgency);
        job.need = grown;
        job.progress.urgency = job.urgency;
        // Said at once, so a page asking right after knows its history is on the way.
        job.progress.minutes.need = grown.minutes;
        job.progress.daily.need = grown.daily;
        job.progress.done = job.done;
        drop(jobs);
        self.wake.notify_one();
    }

    /// Lowers a stock back to `urgency` (e.g. its page was closed).
    pub fn relax(&self, code: StockCode, urgency: Urgency) {
        let mut jobs = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(job) = jobs.get_mut(&code) {
            job.urgency = urgency;
            job.progress.urgency = urgency;
        }
    }

    /// Every stock's progress, most urgent first.
    pub fn progress(&self) -> Vec<Progress> {
        let jobs = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<Progress> = jobs.values().map(|j| j.progress.clone()).collect();
        out.sort_by(|a, b| a.urgency.cmp(&b.urgency).then(a.code.cmp(&b.code)));
        out
    }

    pub fn progress_of(&self, code: StockCode) -> Option<Progress> {
        self.jobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&code)
            .map(|j| j.progress.clone())
    }

    /// Runs jobs until the task is dropped.
    pub async fn run(self: Arc<Self>) {
        loop {
            let next = {
                let jobs = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
                jobs.iter()
                    .filter(|(_, j)| !j.done)
                    .min_by_key(|(c, j)| (j.urgency, j.steps, **c))
                    .map(|(c, _)| *c)
            };
            let Some(code) = next else {
                self.wake.notified().await;
                continue;
            };
            self.update(code, |j| j.steps += 1);
            match self.step(code).await {
                Ok(()) => {}
                Err(e) => {
                    tracing::warn!(%code, error = %e, "backfill step failed; retrying later");
                    self.update(code, |j| j.progress.error = Some(e.to_string()));
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
            }
        }
    }

    fn update(&self, code: StockCode, f: impl FnOnce(&mut Job)) {
        if let Some(job) = self.jobs.lock().unwrap_or_else(|p| p.into_inner()).get_mut(&code) {
            f(job);
        }
    }

    /// The trading day upstream is on (learned from today's minutes if nothing told it yet).
    async fn market_today(&self, code: StockCode) -> Result<Date, GatewayError> {
        if let Some(d) = self.gateway.clock.today() {
            return Ok(d);
        }
        Ok(self.gateway.today_minutes(code, Priority::Background).await?.date)
    }

    /// One step of a job: the daily range, or one past session of minutes.
    async fn step(&self, code: StockCode) -> Result<(), GatewayError> {
        let (need, daily_done, minutes_exhausted) = {
            let jobs = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
            let Some(j) = jobs.get(&code) else { return Ok(()) };
            (j.need, j.daily_done, j.minutes_exhausted)
        };
        let today = self.market_today(code).await?;
        if need.daily > 0 && !daily_done {
            ensure_daily(
                &self.gateway,
                &self.store,
                code,
                today,
                need.daily,
                Priority::Background,
            )
            .await?;
            self.update(code, |j| j.daily_done = true);
        }
        let mut fetched_minutes = false;
        if need.minutes > 0 && !minutes_exhausted {
            if self.gateway.clock.today() == Some(today) {
                // Today's closed minutes count towards the need and are stored by this call.
                self.gateway.today_minutes(code, Priority::Background).await?;
            }
            let have = self.store.minute_count(code).await? as usize;
            if have < need.minutes {
                if !self.has_past_minutes {
                    self.update(code, |j| {
                        j.minutes_exhausted = true;
                        j.progress.note = Some(
                            "this server has no past sessions' minutes (VTS): intraday averages appear as \
                             today's minutes accumulate / 모의투자 서버는 과거 분봉을 제공하지 않아 당일 분봉이 쌓이면 \
                             이동평균이 표시됩니다"
                                .into(),
                        );
                    });
                } else if let Some(day) = self.next_missing_day(code, today).await? {
                    let bars = self.gateway.past_minutes(code, day).await?;
                    let n = bars.len();
                    self.store.put_minutes(code, bars).await?;
                    self.store
                        .mark_minute_day(
                            code,
                            MinuteDay {
                                date: day,
                                bars: n as u32,
                            },
                        )
                        .await?;
                    fetched_minutes = true;
                    if n == 0 {
                        // Nothing that far back: the history upstream ends here.
                        self.update(code, |j| {
                            j.minutes_exhausted = true;
                            j.progress.note = Some(format!("no minutes upstream on or before {day}"));
                        });
                    }
                } else {
                    self.update(code, |j| j.minutes_exhausted = true);
                }
            }
        }
        self.refresh(code, today).await?;
        if fetched_minutes || need.daily > 0 {
            let _ = self.events.send(Advanced { code });
        }
        Ok(())
    }

    /// The newest past session whose minutes are not stored yet, within the sessions the need can use.
    async fn next_missing_day(&self, code: StockCode, today: Date) -> Result<Option<Date>, GatewayError> {
        let done: std::collections::HashSet<Date> = self
            .store
            .minute_days(code)
            .await?
            .iter()
            .map(|d| d.date)
            .collect();
        let need = self
            .jobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&code)
            .map_or(0, |j| j.need.minutes);
        let sessions = need.div_ceil(SESSION_MINUTES) + 1;
        let calendar = Calendar::krx();
        let mut day = today;
        for _ in 0..sessions {
            day = calendar.prev_trading_day(day);
            if !done.contains(&day) {
                return Ok(Some(day));
            }
        }
        Ok(None)
    }

    /// Recomputes a job's progress from the store.
    async fn refresh(&self, code: StockCode, today: Date) -> Result<(), GatewayError> {
        let minutes = self.store.minute_count(code).await? as usize;
        let daily = self.store.daily(code, Some(today), usize::MAX / 2).await?.len();
        let rate = f64::from(self.rate.max(1));
        self.update(code, |j| {
            let minute_calls = if j.minutes_exhausted || minutes >= j.need.minutes {
                0
            } else {
                (j.need.minutes - minutes).div_ceil(SESSION_MINUTES)
                    * SESSION_MINUTES.div_ceil(PAST_MINUTES_PER_CALL)
            };
            let daily_calls = if j.daily_done {
                0
            } else {
                j.need.daily.div_ceil(100)
            };
            let minutes_done = j.minutes_exhausted || minutes >= j.need.minutes;
            j.progress.minutes = Have {
                have: minutes,
                need: j.need.minutes,
            };
            j.progress.daily = Have {
                have: daily,
                need: j.need.daily,
            };
            j.progress.calls_left = minute_calls + daily_calls;
            // At the full rate (1 s + a round trip per slot); polling and pages share it.
            j.progress.eta_secs = (j.progress.calls_left as f64 / rate * 1.1 * 10.0).round() / 10.0;
            j.progress.error = None;
            j.done = minutes_done && (j.daily_done || j.need.daily == 0);
            j.progress.done = j.done;
        });
        Ok(())
    }
}
