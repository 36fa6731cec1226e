//! `kiswatch serve` (also `kiswatch` with no subcommand): builds the service in the order its data
//! flows — upstream (the embedded simulator in demo), store, stock directory, gateway, backfill,
//! triggers, hub, live feed — and serves the HTTP API and the web UI until Ctrl-C.
//!
//! [`App`] is the whole service as a value: tests start it on port 0 against a simulator and stop it
//! again, exactly as the binary does.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use axum::serve::ListenerExt as _;
use host_guard::{HostGuard, HostSpec};
use kis::master::{MasterConfig, MasterLoader};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::api::{self, AppState, Services};
use crate::channels::Channels;
use crate::channels::seal::Sealer;
use crate::config::{RawConfig, ServeConfig, TOKEN_VAR, UpstreamArgs};
use crate::history::Backfill;
use crate::hub::{Hub, QueueConfig};
use crate::live::planner::PlannerConfig;
use crate::live::{GapRepair, Ingest, Inputs, LiveFeed, PlannerTask, PollTask, Quotes, poll_config};
use crate::outbound::Outbound;
use crate::scan::ScanService;
use crate::status::UpstreamState;
use crate::store::Store;
use crate::tasks::Tasks;
use crate::triggers::TriggerService;
use crate::upstream::{Gateway, PROBE_CODE, StockDirectory, StockMeta, Ttls, Upstream, UpstreamKind};

/// How long [`App::shutdown`] waits for the background tasks (in-flight deliveries included).
const SHUTDOWN_BOUND: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on; anything but loopback requires KISWATCH_TOKEN.
    #[arg(long, default_value = crate::config::DEFAULT_BIND)]
    pub bind: Option<SocketAddr>,
    #[command(flatten)]
    pub upstream: UpstreamArgs,
    /// Demo: the simulated market's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Demo: virtual seconds per real second.
    #[arg(long)]
    pub speed: Option<f64>,
    /// Demo: start with an empty watchlist and no steering.
    #[arg(long)]
    pub no_demo_content: bool,
    /// Let webhooks (and other destinations saved through the API) reach private, loopback,
    /// link-local and other local addresses; without it they must be public.
    #[arg(long)]
    pub allow_private_webhooks: bool,
    /// Another name the service answers to, besides 127.0.0.1, localhost and [::1] on its port and
    /// its bound address: NAME (any port) or NAME:PORT; repeatable. Requests addressed to any other
    /// name are refused (DNS rebinding).
    #[arg(long = "allowed-host", value_name = "NAME[:PORT]")]
    pub allowed_host: Vec<HostSpec>,
    /// The web UI's address as its users reach it (e.g. https://kiswatch.example.com), for the
    /// links in alerts sent to Telegram, Discord, Slack, ntfy, e-mail and Web Push; default: the
    /// bound address.
    #[arg(long, env = "KISWATCH_PUBLIC_URL")]
    pub public_url: Option<String>,
}

impl ServeArgs {
    /// The arguments of a bare `kiswatch`.
    pub fn default_args() -> ServeArgs {
        ServeArgs::default()
    }

    fn raw(self) -> RawConfig {
        RawConfig {
            bind: self.bind,
            seed: self.seed,
            speed: self.speed,
            token: std::env::var(TOKEN_VAR).ok(),
            no_demo_content: self.no_demo_content,
            allow_private_webhooks: self.allow_private_webhooks,
            allowed_hosts: self.allowed_host,
            public_url: self.public_url,
            ..self.upstream.raw()
        }
    }
}

/// A running service.
pub struct App {
    addr: SocketAddr,
    state: AppState,
    stop: watch::Sender<bool>,
    server: Option<JoinHandle<()>>,
    tasks: Tasks,
    upstream: Option<Upstream>,
    realtime: Option<crate::upstream::RealtimeSessions>,
}

impl App {
    /// Starts everything and binds `config.bind` (port 0 picks a free port). The parts are built in
    /// the order the data flows: upstream, store and directory, gateway, history, triggers, hub, live,
    /// and last the API that reads them all.
    pub async fn start(config: ServeConfig) -> anyhow::Result<App> {
        let tasks = Tasks::new();
        let upstream = Upstream::start_with(&config.upstream, &config.data_dir, config.share_slots).await?;
        // Opening checks the whole file (`PRAGMA quick_check`): off the async threads.
        let (db_dir, namespace) = (config.data_dir.join("db"), upstream.namespace.clone());
        let store = tokio::task::spawn_blocking(move || Store::open(&db_dir, &namespace)).await??;
        let stocks = Arc::new(StockDirectory::load(store.clone()).await?);
        if let Some(sim) = &upstream.sim {
            // The demo's session starts over with each process: today's minutes from an earlier run
            // belong to another tape.
            store.drop_minutes_from(sim.market().trading_date()).await?;
            store.drop_scans_from(sim.market().trading_date()).await?;
            let listing = sim
                .market()
                .stocks()
                .iter()
                .map(|s| StockMeta {
                    code: s.code,
                    name: s.name.to_string(),
                    market: s.market.as_str().to_string(),
                    kind: "stock".into(),
                })
                .collect();
            stocks.insert_many(listing).await?;
            stocks.add_english_names(
                sim.market()
                    .stocks()
                    .iter()
                    .map(|s| (s.code.to_string(), s.eng_name.to_string())),
            );
        }
        // The stock master, in the background: the cache at once, else a download (demo: from the
        // embedded simulator).
        let master =
            MasterConfig::for_environment(upstream.client().environment(), Some(config.data_dir.clone()));
        tasks.spawn(stocks.clone().follow_master(Arc::new(MasterLoader::new(master))));
        let gateway = Arc::new(Gateway::new(
            upstream.keys.clone(),
            store.clone(),
            stocks.clone(),
            Ttls::default(),
        ));
        // Market time comes from upstream: learn the trading day before serving anything dated.
        let probe = match store.watchlist().await?.first() {
            Some(w) => w.code,
            None => market::StockCode::parse(PROBE_CODE)?,
        };
        match tokio::time::timeout(
            Duration::from_secs(10),
            gateway.learn_today(probe, kis::Priority::Interactive),
        )
        .await
        {
            Ok(Ok(Some(now))) => tracing::info!(%now, "market time learned from upstream"),
            Ok(Ok(None)) => tracing::info!("no trade yet today upstream"),
            Ok(Err(e)) => tracing::warn!(error = %e, "could not learn the market time yet"),
            Err(_) => tracing::warn!("upstream too slow to tell the market time at startup"),
        }
        let changed = Arc::new(watch::channel(0u64).0);
        let backfill = config.background.then(|| {
            let b = Backfill::new(gateway.clone(), store.clone(), upstream.has_past_minutes());
            tasks.spawn(b.clone().run());
            b
        });
        if upstream.kind == UpstreamKind::Demo && config.demo.seed_watchlist {
            crate::demo::seed(&store, &stocks).await?;
        }
        let outbound = Outbound::new(config.outbound);
        // Bound before anything is served: alerts link to the address the UI is reached at.
        let listener = TcpListener::bind(config.bind)
            .await
            .with_context(|| format!("binding {}", config.bind))?;
        let addr = listener.local_addr()?;
        let public_url = config.public_url.clone().unwrap_or_else(|| {
            let host = if addr.ip().is_unspecified() {
                format!("127.0.0.1:{}", addr.port())
            } else {
                addr.to_string()
            };
            format!("http://{host}")
        });
        let sealer = Sealer::open(&config.data_dir)?;
        let channels =
            Channels::start(store.clone(), outbound.clone(), sealer, public_url, tasks.clone()).await?;
        let (triggers, evaluator) = TriggerService::new(
            store.clone(),
            stocks.clone(),
            backfill.clone(),
            tasks.clone(),
            Some(channels.clone()),
        );
        let hub = Arc::new(Hub::new(QueueConfig::default()));
        let live = Arc::new(LiveFeed::new());
        let directory = stocks.clone();
        hub.set_name_source(Arc::new(move |code| directory.get(code).map(|m| m.name)));
        let statuses = live.clone();
        hub.set_status_source(Arc::new(move |code| {
            Some(statuses.status(code, tokio::time::Instant::now()))
        }));
        tasks.spawn(triggers.forward_to_hub(hub.clone(), store.clone()));
        // What a browser hears before the session reports: without a realtime session (no
        // background work) nothing will, and the stocks are answered over REST on request.
        if !config.background {
            hub.publish_upstream(UpstreamState::Polling);
        }
        // One realtime session per app key; their events go straight into the ingest task.
        let (realtime, events) = match config.background {
            true => {
                let (sessions, events) = upstream.realtime();
                (Some(sessions), Some(events))
            }
            false => (None, None),
        };
        let (feed, feed_rx) = mpsc::channel(1024);
        let gaps = GapRepair::new(gateway.clone(), feed.clone(), tasks.clone());
        let ingest = Ingest::new(
            live.clone(),
            store.clone(),
            hub.clone(),
            gateway.clone(),
            gaps.clone(),
            evaluator,
        );
        tasks.spawn(ingest.run(Inputs {
            feed: feed_rx,
            realtime: events,
            changed: changed.subscribe(),
            advanced: backfill.as_ref().map(|b| b.subscribe()),
        }));
        if config.background {
            let polls = poll_config(&gateway, config.live);
            let (polled, polled_rx) = watch::channel(Vec::new());
            tasks.spawn(
                PlannerTask {
                    store: store.clone(),
                    hub: hub.clone(),
                    live: live.clone(),
                    realtime: realtime.clone(),
                    changed: changed.subscribe(),
                    polled,
                    polls,
                    config: PlannerConfig::default(),
                }
                .run(),
            );
            tasks.spawn(
                PollTask {
                    gateway: gateway.clone(),
                    live: live.clone(),
                    feed,
                    gaps,
                    stocks: polled_rx,
                    config: polls,
                }
                .run(),
            );
        }
        if let (Some(b), Some(sim_url), true) = (&backfill, upstream.sim_url(), config.demo.steer) {
            tasks.spawn(crate::demo::steer(
                store.clone(),
                b.clone(),
                sim_url,
                Duration::from_secs(120),
            ));
        }
        // 조건검색 over the whole market: background work, like the backfill.
        let scans = config.background.then(|| {
            let s = ScanService::new(
                gateway.clone(),
                store.clone(),
                stocks.clone(),
                hub.clone(),
                Some(channels.clone()),
            );
            tasks.spawn(s.clone().run(changed.subscribe()));
            s
        });
        let state: AppState = Arc::new(Services {
            quotes: Quotes::new(live.clone(), gateway.clone()),
            gateway,
            store,
            stocks,
            backfill,
            triggers: Some(triggers),
            scans,
            hts_results: api::kis_scans::hts_cache(),
            channels: Some(channels),
            upstream: upstream.kind,
            namespace: upstream.namespace.clone(),
            sim_url: upstream.sim_url(),
            http: reqwest::Client::new(),
            outbound,
            token: config.token.clone(),
            started: Instant::now(),
            changed,
            metrics: api::metrics::recorder(),
            hub,
            live,
        });
        let (stop, mut stopped) = watch::channel(false);
        let app = api::router(state.clone(), HostGuard::new(addr, &answers_to(&config)));
        let server = tokio::spawn(async move {
            // Live data goes out as many small WebSocket frames, each to be shown at once: Nagle's algorithm
            // would hold a frame back while the one before is unacknowledged. (The screen-latency benchmark
            // could not separate its effect on loopback from its own noise: BENCHMARKS.md.)
            let listener = listener.tap_io(|tcp| {
                if let Err(e) = tcp.set_nodelay(true) {
                    tracing::debug!(error = %e, "cannot set TCP_NODELAY on a connection");
                }
            });
            let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = stopped.wait_for(|s| *s).await;
            });
            if let Err(e) = serve.await {
                tracing::error!(error = %e, "the HTTP server stopped with an error");
            }
        });
        Ok(App {
            addr,
            state,
            stop,
            server: Some(server),
            tasks,
            upstream: Some(upstream),
            realtime,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The embedded simulator (demo only).
    pub fn sim(&self) -> Option<&kis_sim::SimServer> {
        self.upstream.as_ref().and_then(|u| u.sim.as_ref())
    }

    /// The embedded simulator's URL (demo only).
    pub fn sim_url(&self) -> Option<String> {
        self.upstream.as_ref().and_then(Upstream::sim_url)
    }

    /// Stops in order: every browser WebSocket gets a close frame (1001), the HTTP server stops
    /// accepting and finishes its requests, the background tasks stop and are awaited (within
    /// [`SHUTDOWN_BOUND`]; a trigger whose delivery was cut short is in the store, where a browser's
    /// `resume` finds it), the realtime session closes (ending every upstream registration), and the
    /// embedded simulator stops. The store commits each write as it happens: nothing is left to flush.
    pub async fn shutdown(mut self) {
        self.state.hub.shutdown();
        if tokio::time::timeout(Duration::from_secs(3), self.state.hub.sessions_ended())
            .await
            .is_err()
        {
            tracing::warn!("some browser sockets did not take their close frame in 3 s");
        }
        let _ = self.stop.send(true);
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        if !self.tasks.shutdown(SHUTDOWN_BOUND).await {
            tracing::warn!(
                running = self.tasks.running(),
                "some background tasks did not stop within {SHUTDOWN_BOUND:?}"
            );
        }
        if let Some(r) = self.realtime.take() {
            let _ = tokio::time::timeout(Duration::from_secs(2), r.close()).await;
        }
        if let Some(u) = self.upstream.take() {
            u.shutdown().await;
        }
    }
}

impl Drop for App {
    /// An app dropped without [`App::shutdown`] (a test that panicked) still stops its tasks.
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        self.tasks.stop();
    }
}

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let config = args.raw().resolve()?;
    let demo = matches!(config.upstream, crate::config::UpstreamConfig::Demo { .. });
    let app = App::start(config.clone()).await?;
    banner(&app, &config, demo);
    let progress = tokio::spawn(report_backfill(app.state().clone()));
    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
    progress.abort();
    eprintln!("stopping…");
    app.shutdown().await;
    Ok(())
}

/// Prints the backfill's progress every ten seconds while it has work left, and once when it is done.
async fn report_backfill(state: AppState) {
    let Some(backfill) = state.backfill.clone() else {
        return;
    };
    let mut reported_done = true;
    loop {
        tokio::time::sleep(Duration::from_secs(10)).await;
        let all = backfill.progress();
        if all.is_empty() {
            continue;
        }
        let done = all.iter().filter(|p| p.done).count();
        if done == all.len() {
            if !reported_done {
                println!(
                    "  history: all {} stocks have what their conditions need",
                    all.len()
                );
                reported_done = true;
            }
            continue;
        }
        reported_done = false;
        let have: usize = all.iter().map(|p| p.minutes.have).sum();
        let need: usize = all.iter().map(|p| p.minutes.need).sum();
        let calls: usize = all.iter().map(|p| p.calls_left).sum();
        let eta: f64 = all.iter().map(|p| p.eta_secs).sum();
        println!(
            "  history: {done}/{} stocks done, 1-minute bars {have}/{need}, about {calls} calls ({eta:.0} s) left",
            all.len()
        );
    }
}

/// The names the service answers to besides its own: each `--allowed-host`, and the host of
/// `--public-url` (on any port: a reverse proxy in front of it may forward its name without one),
/// since the links in alerts lead there.
fn answers_to(config: &ServeConfig) -> Vec<HostSpec> {
    let mut hosts = config.allowed_hosts.clone();
    let public = config
        .public_url
        .as_deref()
        .and_then(|u| reqwest::Url::parse(u).ok());
    // An IPv6 host comes in brackets, as a Host header writes it.
    if let Some(spec) = public
        .as_ref()
        .and_then(|u| u.host_str())
        .and_then(|h| HostSpec::new(h, None).ok())
    {
        hosts.push(spec);
    }
    hosts
}

fn banner(app: &App, config: &ServeConfig, demo: bool) {
    let host = if config.bind.ip().is_unspecified() {
        format!("127.0.0.1:{}", app.local_addr().port())
    } else {
        app.local_addr().to_string()
    };
    let url = format!("http://{host}");
    println!();
    println!(
        "  kiswatch {} — open {url} in your browser",
        env!("CARGO_PKG_VERSION")
    );
    println!();
    if demo {
        let speed = match config.upstream {
            crate::config::UpstreamConfig::Demo { speed, .. } => speed,
            _ => 1.0,
        };
        for line in [
            "DEMO: no KIS credentials, so kiswatch runs its built-in KIS simulator: a virtual session"
                .to_string(),
            format!(
                "that is always open, here at {speed}× speed. On its first start it watches ten large caps"
            ),
            "with two conditions, \"30m: 정배열\" and \"1m: 정배열\" (moving averages in bullish order),"
                .into(),
            "fetches their history and steers the simulator so that a 1-minute 정배열 forms. Expect a".into(),
            "trigger within about two minutes: the stock's row on the watchlist lights up. The trigger"
                .into(),
            "engine evaluates the real bars; only the simulator's future trades are steered.".into(),
        ] {
            println!("  {line}");
        }
        println!();
        println!(
            "  데모: 내장 KIS 시뮬레이터로 실행 중입니다. 관심종목 10개와 조건(30분봉/1분봉 정배열)이 준비되어 있고,"
        );
        println!("  약 2분 안에 트리거가 발생합니다. 브라우저에서 {url} 을 여세요.");
        println!();
        println!("  Triggers so far: {url}/api/v1/triggers    Simulator control: {url}/sim/stats");
    } else {
        println!(
            "  KIS: {} ({})",
            app.state().upstream.as_str(),
            app.state().namespace
        );
    }
    let store = &app.state().store;
    if let Some(emptied) = &store.opened().emptied {
        let db = store.path().display();
        println!("  WARNING: the database {db} was found emptied ({emptied}):");
        println!("  what it held (watchlist, conditions, triggers, history) is gone; it runs empty now.");
        if demo {
            println!("  The demo does not seed it again; delete the file to start the demo afresh.");
        }
        println!(
            "  경고: 데이터베이스가 비어 있는 채로 발견되었습니다. 백업이 있다면 kiswatch를 멈추고 되돌리세요."
        );
        println!();
    }
    println!("  API: {url}/api/v1/health   Data: {}", config.data_dir.display());
    if config.token.is_some() {
        println!("  The API requires `Authorization: Bearer $KISWATCH_TOKEN`.");
    }
    if !config.allowed_hosts.is_empty() {
        let names: Vec<String> = config.allowed_hosts.iter().map(ToString::to_string).collect();
        println!("  Also answers to: {}", names.join(", "));
    } else if config.bind.ip().is_unspecified() {
        println!(
            "  Listening on every interface, but answering only to 127.0.0.1/localhost: reach it from \
             elsewhere under a name given with --allowed-host NAME[:PORT]."
        );
    }
    println!("  Press Ctrl-C to stop.");
    println!();
}
