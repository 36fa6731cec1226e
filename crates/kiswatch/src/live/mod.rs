//! The live side: what is happening now, from the realtime session and from polling.
//!
//! ```text
//! planner_task ── registrations ──▶ kis realtime session ── events ──┐
//!      └── polled list ──▶ poll_task ── trades ─────────────────────┼▶ ingest ─┬▶ feed (LiveFeed)
//! gap (GapRepair) ── refetched minutes ─────────────────────────────┘          ├▶ hub
//!                                                                                └▶ triggers::Evaluator
//! quotes: price / order book / executions — LiveFeed while realtime, else the gateway
//! ```
//!
//! * [`feed`]: [`LiveFeed`], the shared live picture (live state, today's live bars, sources,
//!   upstream state).
//! * [`state`]: each realtime stock's last price, order book and executions, in the REST wire types.
//! * [`bars`]: a stock's live 1-minute bars of today, the truth for today's intraday chart.
//! * [`ingest`]: the one task that takes every event in.
//! * [`planner`] (pure) and [`planner_task`]: which stocks hold the 41 realtime registrations.
//! * [`poll_task`]: polling the rest inside a bounded share of the rate.
//! * [`gap`]: which minutes a gap covered, and refetching them.
//! * [`quotes`]: the API's price, order book and executions, live first.

pub mod bars;
pub mod feed;
pub mod gap;
pub mod ingest;
pub mod planner;
pub mod planner_task;
pub mod poll_task;
pub mod quotes;
pub mod state;

pub use bars::{LiveBars, minute_of};
pub use feed::{Feed, LiveFeed};
pub use gap::GapRepair;
pub use ingest::{Ingest, Inputs};
pub use planner_task::PlannerTask;
pub use poll_task::{POLL_PRIORITY, PollTask, poll_config};
pub use quotes::Quotes;
