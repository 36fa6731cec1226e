//! [`KisClient`]: every REST call goes through the governor (one slot per request, held until 1 s
//! after completion), carries a cached access token, is retried with jittered backoff when the
//! failure is transient, re-issues the token once on `EGW00123`, and is shared with identical
//! concurrent calls.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use jiff::civil::Date;
use market::StockCode;

use crate::clock::{Clock, SystemClock};
use crate::coalesce::{Answer, CallKey, Coalescer};
use crate::credentials::Credentials;
use crate::env::Environment;
use crate::error::KisError;
use crate::governor::{Governor, GovernorConfig, GovernorMetrics, Priority};
use crate::ledger::{FileLedger, InProcessLedger, RedisLedger};
use crate::retry::RetryPolicy;
use crate::token::{Secret, SharedTokens, TokenConfig, TokenStore};
use crate::wire::chart::{
    BarPeriod, MinuteChart, PastMinuteChartRequest, PeriodChart, PeriodChartRequest, TodayMinuteChartRequest,
};
use crate::wire::info::{
    HolidayRequest, MarketDay, NO_DATA_MSG_CD, ProductInfo, ProductInfoRequest, StockInfo, StockInfoRequest,
};
use crate::wire::quotations::{
    DailyPrice, DailyPriceRequest, Execution, ExecutionsRequest, OrderBook, OrderBookRequest, Price,
    PriceRequest, RecentPeriod,
};
use crate::wire::scan::{
    ConditionMatch, ConditionResultRequest, ConditionTitle, ConditionTitlesRequest, FluctuationRequest,
    MultPrice, MultPriceRequest, NO_CONDITION_MSG_CD, NO_MATCH_MSG_CD, RankRow, VolumeRankRequest,
};
use crate::wire::{self, Request};

/// Everything a [`KisClient`] needs.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub env: Environment,
    pub credentials: Credentials,
    /// Requests per second; `None` takes the environment's rate (real 20, VTS 2).
    pub rate: Option<u32>,
    /// ε of the governor: extra hold after the 1-second window.
    pub margin: Duration,
    /// Timeout of one HTTP request (the slot is held until it ends, plus the window).
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
    /// Token cache and lifecycle (`data_dir: None` keeps tokens in memory only).
    pub tokens: TokenConfig,
    /// Share the answer of identical concurrent GETs.
    pub coalesce: bool,
    /// The wall clock of the token rules (the system clock; tests pass a [`crate::clock::TokioClock`]).
    pub clock: Arc<dyn Clock>,
    /// With a data dir, share the governor's slots with every other process using the same app
    /// key and environment (a [`FileLedger`] under `<data_dir>/governor/`); without one, or when
    /// false, the slots are this process's alone.
    pub share_slots: bool,
    /// A ledger shared between machines, `redis://host:port/db` (see [`RedisLedger`]): the slots,
    /// the adapted rate and the tokens of the key. Takes precedence over the data dir's ledger.
    pub ledger_url: Option<String>,
}

impl ClientConfig {
    pub fn new(env: Environment, credentials: Credentials) -> ClientConfig {
        ClientConfig {
            env,
            credentials,
            rate: None,
            margin: GovernorConfig::per_second(1).margin,
            request_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            tokens: TokenConfig::default(),
            coalesce: true,
            clock: Arc::new(SystemClock),
            share_slots: true,
            ledger_url: None,
        }
    }

    /// Caches tokens under `<dir>/tokens/`.
    pub fn with_data_dir(mut self, dir: impl Into<PathBuf>) -> ClientConfig {
        self.tokens.data_dir = Some(dir.into());
        self
    }
}

/// A KIS REST client for one app key. Cheap to clone; clones share the governor, tokens and
/// in-flight calls. Requests are interactive unless [`KisClient::with_priority`] says otherwise.
#[derive(Clone)]
pub struct KisClient {
    inner: Arc<Inner>,
    priority: Priority,
}

struct Inner {
    http: reqwest::Client,
    env: Environment,
    credentials: Credentials,
    tokens: Arc<TokenStore>,
    governor: Governor,
    retry: RetryPolicy,
    timeout: Duration,
    coalesce: bool,
    flights: Coalescer,
}

impl std::fmt::Debug for KisClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KisClient")
            .field("env", &self.inner.env)
            .field("credentials", &self.inner.credentials)
            .field("priority", &self.priority)
            .finish()
    }
}

impl KisClient {
    pub fn new(config: ClientConfig) -> Result<KisClient, KisError> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .build()
            .map_err(|e| KisError::Transport {
                tr_id: String::new(),
                detail: e.to_string(),
            })?;
        let slots = config.rate.unwrap_or_else(|| config.env.rate());
        let (governor, shared_tokens) = governor(
            &config,
            GovernorConfig {
                margin: config.margin,
                ..GovernorConfig::per_second(slots)
            },
        )?;
        let mut tokens = TokenStore::new(
            http.clone(),
            config.env.clone(),
            config.credentials.clone(),
            config.tokens.clone(),
        )
        .with_governor(governor.clone())
        .with_clock(config.clock.clone());
        if let Some(shared) = shared_tokens {
            tokens = tokens.with_shared(shared);
        }
        let tokens = Arc::new(tokens);
        Ok(KisClient {
            inner: Arc::new(Inner {
                http,
                env: config.env,
                credentials: config.credentials,
                tokens,
                governor,
                retry: config.retry,
                timeout: config.request_timeout,
                coalesce: config.coalesce,
                flights: Coalescer::default(),
            }),
            priority: Priority::Interactive,
        })
    }

    /// The same client, sending at `priority`.
    pub fn with_priority(&self, priority: Priority) -> KisClient {
        KisClient {
            inner: self.inner.clone(),
            priority,
        }
    }

    /// Which app key this client sends (a short hash, never the key).
    pub fn key_fingerprint(&self) -> crate::KeyFingerprint {
        self.inner.credentials.key_fingerprint()
    }

    pub fn environment(&self) -> &Environment {
        &self.inner.env
    }

    pub fn governor(&self) -> &Governor {
        &self.inner.governor
    }

    pub fn governor_metrics(&self) -> GovernorMetrics {
        self.inner.governor.metrics()
    }

    /// The token store (also the [`crate::realtime::ApprovalSource`] of the realtime client).
    pub fn tokens(&self) -> &Arc<TokenStore> {
        &self.inner.tokens
    }

    /// Calls that shared another identical call's answer.
    pub fn coalesced_calls(&self) -> u64 {
        self.inner.flights.joined()
    }

    /// Sends one typed request (with governor, token, retries and coalescing).
    pub async fn request<R: Request>(&self, request: &R) -> Result<R::Output, KisError> {
        if self.inner.env.is_vts() && !R::ON_VTS {
            return Err(KisError::Unsupported {
                what: R::TR_ID,
                env: self.inner.env.to_string(),
            });
        }
        let key = CallKey {
            path: R::PATH,
            tr_id: R::TR_ID,
            query: request.query(),
            priority: self.priority,
        };
        let body = if self.inner.coalesce {
            let (inner, priority, query) = (self.inner.clone(), self.priority, key.query.clone());
            self.inner
                .flights
                .run(key, move || {
                    async move { inner.fetch(R::PATH, R::TR_ID, query, priority).await }.boxed()
                })
                .await?
        } else {
            self.inner
                .clone()
                .fetch(R::PATH, R::TR_ID, key.query, self.priority)
                .await?
        };
        request.parse(&body)
    }

    /// 주식현재가 시세. An unknown code gives [`KisError::NotFound`].
    pub async fn price(&self, code: StockCode) -> Result<Price, KisError> {
        self.request(&PriceRequest { code }).await
    }

    /// The 10-level order book.
    pub async fn order_book(&self, code: StockCode) -> Result<OrderBook, KisError> {
        self.request(&OrderBookRequest { code }).await
    }

    /// The latest 30 executions, newest first.
    pub async fn executions(&self, code: StockCode) -> Result<Vec<Execution>, KisError> {
        self.request(&ExecutionsRequest { code }).await
    }

    /// The last 30 days (weeks, months) of prices, newest first.
    pub async fn daily_prices(
        &self,
        code: StockCode,
        period: RecentPeriod,
    ) -> Result<Vec<DailyPrice>, KisError> {
        self.request(&DailyPriceRequest {
            code,
            period,
            adjusted: true,
        })
        .await
    }

    /// One call of the period chart (at most 100 bars, newest first); see
    /// [`KisClient::period_bars`] for any range.
    pub async fn period_chart(
        &self,
        code: StockCode,
        period: BarPeriod,
        from: Date,
        to: Date,
    ) -> Result<PeriodChart, KisError> {
        self.request(&PeriodChartRequest {
            code,
            period,
            from,
            to,
            adjusted: true,
        })
        .await
    }

    /// One call of today's minute chart (at most 30 bars at or before `until`, newest first).
    pub async fn today_minute_chart(
        &self,
        code: StockCode,
        until: jiff::civil::Time,
    ) -> Result<MinuteChart, KisError> {
        self.request(&TodayMinuteChartRequest { code, until }).await
    }

    /// One call of a past day's minute chart (at most 120 bars at or before `until`; real only).
    pub async fn past_minute_chart(
        &self,
        code: StockCode,
        date: Date,
        until: jiff::civil::Time,
    ) -> Result<MinuteChart, KisError> {
        self.request(&PastMinuteChartRequest { code, date, until }).await
    }

    /// 상품기본조회 (real only): names and ISIN of one code; an unknown code gives
    /// [`KisError::NotFound`].
    pub async fn product_info(&self, code: StockCode) -> Result<ProductInfo, KisError> {
        match self.request(&ProductInfoRequest { code }).await {
            Err(KisError::Api { msg_cd, .. }) if msg_cd == NO_DATA_MSG_CD => Err(KisError::NotFound {
                code: code.to_string(),
            }),
            other => other,
        }
    }

    /// 주식기본조회 (real only): name, market, shares.
    pub async fn stock_info(&self, code: StockCode) -> Result<StockInfo, KisError> {
        self.request(&StockInfoRequest { code }).await
    }

    /// 관심종목(멀티종목) 시세: the quotes of 1 to 30 stocks in one call, in the order asked; codes KIS
    /// does not know are left out.
    pub async fn multi_price(&self, codes: Vec<StockCode>) -> Result<Vec<MultPrice>, KisError> {
        self.request(&MultPriceRequest::new(codes)?).await
    }

    /// 거래량순위 (real only): at most 30 rows, by rank.
    pub async fn volume_rank(&self, request: &VolumeRankRequest) -> Result<Vec<RankRow>, KisError> {
        self.request(request).await
    }

    /// 등락률 순위 (real only): at most 30 rows, by rank.
    pub async fn fluctuation_rank(&self, request: &FluctuationRequest) -> Result<Vec<RankRow>, KisError> {
        self.request(request).await
    }

    /// The HTS user's saved conditions (real only); none saved is an empty list.
    pub async fn condition_titles(&self, user_id: &str) -> Result<Vec<ConditionTitle>, KisError> {
        let request = ConditionTitlesRequest {
            user_id: user_id.to_owned(),
        };
        match self.request(&request).await {
            Err(KisError::Api { msg_cd, .. }) if msg_cd == NO_CONDITION_MSG_CD => Ok(Vec::new()),
            other => other,
        }
    }

    /// What one saved HTS condition matches now (real only; at most 100 stocks). No match
    /// (`MCA05918`) is an empty list; an unknown `seq` is KIS's error.
    pub async fn condition_matches(&self, user_id: &str, seq: &str) -> Result<Vec<ConditionMatch>, KisError> {
        let request = ConditionResultRequest {
            user_id: user_id.to_owned(),
            seq: seq.to_owned(),
        };
        match self.request(&request).await {
            Err(KisError::Api { msg_cd, .. }) if msg_cd == NO_MATCH_MSG_CD => Ok(Vec::new()),
            other => other,
        }
    }

    /// KIS's calendar from `date` on (call at most once a day).
    pub async fn market_days(&self, date: Date) -> Result<Vec<MarketDay>, KisError> {
        self.request(&HolidayRequest { date }).await
    }

    /// Whether the market is closed on `date`, according to KIS.
    pub async fn is_holiday(&self, date: Date) -> Result<bool, KisError> {
        let days = self.market_days(date).await?;
        days.iter()
            .find(|d| d.date == date)
            .map(|d| !d.open)
            .ok_or_else(|| KisError::Decode {
                tr_id: HolidayRequest::TR_ID.into(),
                detail: format!("the answer does not cover {date}"),
            })
    }
}

/// Extra lease time on top of the longest request timeout: a request in flight longer than its
/// lease could lose its slot in a shared ledger, so the lease is generous (it only matters when a
/// process vanishes without the ledger noticing).
const LEASE_SLACK: Duration = Duration::from_secs(5);

/// The governor of `config`: slots shared through Redis with `ledger_url` (the tokens too), else
/// through the data dir when it has one (and `share_slots`), else this process's own. An unusable
/// data dir falls back to the latter; an unreachable Redis to its local share (see
/// [`RedisLedger`]).
fn governor(
    config: &ClientConfig,
    governor: GovernorConfig,
) -> Result<(Governor, Option<Arc<dyn SharedTokens>>), KisError> {
    let key = Some(config.credentials.key_fingerprint());
    let name = format!("{}-{}", config.env.cache_name(), config.credentials.fingerprint());
    let lease = config.request_timeout.max(config.tokens.timeout) + LEASE_SLACK;
    if let Some(url) = &config.ledger_url {
        let ledger = RedisLedger::open(url, &name, governor.rules(), governor.hold(), lease)?;
        let tokens: Arc<dyn SharedTokens> = ledger.tokens();
        return Ok((Governor::for_key(governor, Arc::new(ledger), key), Some(tokens)));
    }
    let local = || {
        Governor::for_key(
            governor,
            Arc::new(InProcessLedger::with_rules(governor.rules())),
            key,
        )
    };
    let Some(dir) = config.tokens.data_dir.as_ref().filter(|_| config.share_slots) else {
        return Ok((local(), None));
    };
    Ok((
        match FileLedger::open_with_rules(
            &dir.join("governor"),
            &name,
            governor.rules(),
            governor.hold(),
            lease,
        ) {
            Ok(ledger) => Governor::for_key(governor, Arc::new(ledger), key),
            Err(e) => {
                tracing::warn!(error = %e, "cannot share the rate limit with other processes; counting this process alone");
                local()
            }
        },
        None,
    ))
}

impl Inner {
    /// One logical call: attempts with backoff, each through the governor; one token renewal.
    async fn fetch(
        self: Arc<Self>,
        path: &'static str,
        tr_id: &'static str,
        query: Vec<(&'static str, String)>,
        priority: Priority,
    ) -> Answer {
        let mut token = self.tokens.access_token().await?;
        let mut renewed = false;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let error = match self.send_once(path, tr_id, &query, &token, priority).await {
                Ok(body) => return Ok(body),
                Err(e) => e,
            };
            if let KisError::RateLimited { .. } = error {
                // Counted and fed to the key's rate by the permit (send_once).
                tracing::warn!(
                    tr_id,
                    rate = self.governor.metrics().effective_rate,
                    "KIS refused a request (EGW00201); the key's rate is lowered and it is retried"
                );
            }
            if matches!(error, KisError::TokenExpired { .. }) && !renewed {
                tracing::info!(tr_id, "access token refused (EGW00123); renewing once");
                renewed = true;
                token = self.tokens.renew_access_token(&token).await?;
                attempt -= 1;
                continue;
            }
            if !self.retry.should_retry(&error, attempt) {
                return Err(error);
            }
            let wait = self.retry.backoff(attempt);
            tracing::debug!(tr_id, attempt, wait_ms = wait.as_millis() as u64, error = %error, "retrying");
            tokio::time::sleep(wait).await;
        }
    }

    async fn send_once(
        &self,
        path: &'static str,
        tr_id: &'static str,
        query: &[(&'static str, String)],
        token: &Secret,
        priority: Priority,
    ) -> Answer {
        let url = format!("{}{}", self.env.rest_url(), path);
        let permit = self.governor.acquire(priority).await;
        tracing::debug!(tr_id, path, ?priority, "request sent");
        let exchange = async {
            let response = self
                .http
                .get(&url)
                .query(query)
                .timeout(self.timeout)
                .header("content-type", "application/json; charset=utf-8")
                .header("authorization", format!("Bearer {}", token.expose()))
                .header("appkey", self.credentials.app_key())
                .header("appsecret", self.credentials.app_secret())
                .header("tr_id", tr_id)
                .header("custtype", "P")
                .send()
                .await?;
            let status = response.status().as_u16();
            let body = response.bytes().await?;
            Ok::<_, reqwest::Error>((status, body))
        };
        let result = exchange.await;
        // The response is complete (or failed): the slot is held for the window from now, and
        // the governor learns whether the server counted it inside the limit.
        let checked = result
            .as_ref()
            .ok()
            .map(|(status, body)| wire::check_envelope(tr_id, *status, body));
        match &checked {
            Some(Err(KisError::RateLimited { .. })) => permit.rate_limited(),
            // A KIS answer, success or refusal of the request itself: it passed the rate gate.
            // (A bare HTTP error or an unreadable body is no evidence either way.)
            Some(Ok(()) | Err(KisError::Api { .. } | KisError::TokenExpired { .. })) => permit.accepted(),
            _ => drop(permit),
        }
        let (_, body) = result.map_err(|e| {
            if e.is_timeout() {
                KisError::Timeout {
                    tr_id: tr_id.into(),
                    after: self.timeout,
                }
            } else {
                KisError::Transport {
                    tr_id: tr_id.into(),
                    detail: e.without_url().to_string(),
                }
            }
        })?;
        if let Some(checked) = checked {
            checked?;
        }
        Ok(Arc::from(body.as_ref()))
    }
}
