//! One browser's outbound queue: bounded, coalescing market data, never dropping a trigger.
//!
//! A browser that reads slower than the market moves must neither slow the others nor grow memory
//! without bound, and must never miss a trigger. So the queue holds at most one pending message per
//! *key* for market data, and a FIFO for triggers and error replies:
//!
//! * `tick`, `orderbook`, `candle` (per code and period) and per-stock `status`: **latest wins** — a
//!   new message replaces the pending one of the same key, keeping its place in line, so a lagging
//!   client gets the newest value without the stale ones in between;
//! * `executions`: **batched** — trades of a stock that arrive while one is pending join it (oldest
//!   first, at most [`QueueConfig::max_batched_executions`], the oldest dropped past that);
//! * `trigger` and `error`: **never coalesced or dropped**, delivered first, in order, each trigger
//!   once (ids only increase; a repeated id is skipped).
//!
//! **Who is slow.** A client is slow when *its socket* does not drain, not when the process is busy:
//! the connection's writer takes everything pending in one batch ([`Outbox::recv_batch`]), writes it
//! with one flush, and says when the write finished ([`Outbox::written`]). A client whose write has
//! been blocked for longer than [`QueueConfig::max_stall`] (the kernel's send buffer full because the
//! browser stopped reading), or that has more than [`QueueConfig::max_pending`] entries pending, is
//! cut off: the queue closes with WebSocket close code 1008 and the reason
//! `too slow: N messages behind`, and its memory is freed. The age of the oldest undelivered message
//! is deliberately *not* the measure: on a saturated runtime a healthy client's writer may simply
//! not have had its turn yet, and cutting it off would punish the browser for the server's load
//! (a first version did exactly that: 654 of 950 healthy clients cut off at 5,000 trades/s on two
//! cores). Since market data coalesces per key, a client that waits for its turn costs bounded
//! memory (one entry per subscribed key plus undelivered triggers) and gets the latest values when
//! its turn comes: the work per client is bounded by the frames it is sent, not by the trades.
//! The triggers it did not get are in the store; the browser reconnects and sends
//! `{"op":"resume","after_trigger_id":N}` ([`OutQueue::begin_resume`] / [`OutQueue::finish_resume`]).
//!
//! **Unstored triggers** (fired while the store could not write them, see
//! [`crate::triggers::backlog`]) have no id yet: they go in the same lossless lane
//! ([`OutQueue::push_unstored`]), are never deduplicated by id, and are held back like stored ones
//! while a resume is being answered (the hub sends the ones still unstored when it ends). Once
//! stored, the trigger comes again through [`OutQueue::push_trigger`] with its id.
//!
//! **A new connection holds its triggers** ([`OutQueue::hold_triggers`]) until the browser resumes or
//! a short grace ends ([`OutQueue::release_hold`]). Without the hold, a trigger fired between the
//! reconnect and the browser's `resume` went out live first, and the resume then sent the missed
//! older ones after it and the live one again: out of order and twice, and a browser that drops ids
//! at or below the newest it has seen lost the older ones (the fan-out benchmark caught 3 of 50
//! reconnecting clients in one run).
//!
//! [`OutQueue`] is the pure structure (time passed in); [`Outbox`] shares it between the hub (which
//! pushes) and the connection's writer task (which awaits [`Outbox::recv`]). This is hand-written
//! because no channel crate coalesces by key while keeping a lossless lane beside it.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use market::{Period, StockCode};
use tokio::sync::Notify;
use tokio::time::Instant;

/// The close code sent to a client cut off for being slow (policy violation).
pub const CLOSE_TOO_SLOW: u16 = 1008;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueConfig {
    /// Pending entries (one per market-data key, plus triggers and errors) before a client is cut off.
    pub max_pending: usize,
    /// How long one write to the client's socket may stay blocked before the client is cut off.
    pub max_stall: Duration,
    /// Trades kept in one pending `executions` batch.
    pub max_batched_executions: usize,
}

impl Default for QueueConfig {
    /// 4,096 entries, 10 s, 100 trades.
    fn default() -> QueueConfig {
        QueueConfig {
            max_pending: 4096,
            max_stall: Duration::from_secs(10),
            max_batched_executions: 100,
        }
    }
}

/// What coalesces with what.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key {
    Tick(StockCode),
    OrderBook(StockCode),
    Executions(StockCode),
    Candle(StockCode, Period),
    StockStatus(StockCode),
    UpstreamStatus,
}

/// Why a queue closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseReason {
    pub code: u16,
    pub reason: String,
}

/// The queue refused a message because it is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the client's queue is closed")]
pub struct Closed;

/// A message ready to send, with when its newest content was enqueued (for latency figures).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub text: Arc<str>,
    pub enqueued_at: Instant,
    /// The trigger id, for a trigger.
    pub trigger_id: Option<u64>,
}

#[derive(Debug)]
enum Content {
    Whole(Arc<str>),
    /// `prefix` is the message up to the opening `[` of its `executions` array.
    Executions {
        prefix: Arc<str>,
        items: VecDeque<Arc<str>>,
    },
}

#[derive(Debug)]
struct Slot {
    content: Content,
    updated_at: Instant,
    /// Pushes folded into this slot.
    pushes: u64,
}

#[derive(Debug)]
struct Urgent {
    text: Arc<str>,
    at: Instant,
    trigger_id: Option<u64>,
    /// An unstored trigger (no id yet).
    unstored: bool,
}

#[derive(Debug)]
struct Resume {
    held: Vec<(u64, Arc<str>)>,
    /// Whether the client asked for a resume (`false`: the hold of a new connection).
    asked: bool,
}

/// The pure queue; see the module docs.
#[derive(Debug)]
pub struct OutQueue {
    config: QueueConfig,
    urgent: VecDeque<Urgent>,
    order: VecDeque<Key>,
    slots: HashMap<Key, Slot>,
    /// Messages pushed and not yet delivered, coalesced ones included.
    behind: u64,
    /// The highest trigger id queued or delivered.
    trigger_high_water: u64,
    resume: Option<Resume>,
    closed: Option<CloseReason>,
    /// When the writer began the socket write still in progress.
    writing_since: Option<Instant>,
}

impl OutQueue {
    pub fn new(config: QueueConfig) -> OutQueue {
        OutQueue {
            config,
            urgent: VecDeque::new(),
            order: VecDeque::new(),
            slots: HashMap::new(),
            behind: 0,
            trigger_high_water: 0,
            resume: None,
            closed: None,
            writing_since: None,
        }
    }

    pub fn config(&self) -> QueueConfig {
        self.config
    }

    /// Entries waiting (each coalesced key counts once).
    pub fn pending(&self) -> usize {
        self.urgent.len() + self.slots.len()
    }

    /// Messages pushed and not delivered, counting each coalesced one.
    pub fn behind(&self) -> u64 {
        self.behind
    }

    pub fn close_reason(&self) -> Option<&CloseReason> {
        self.closed.as_ref()
    }

    /// A market-data message that replaces any pending one of the same key.
    pub fn push(&mut self, key: Key, text: Arc<str>, now: Instant) -> Result<(), Closed> {
        self.open()?;
        self.behind += 1;
        match self.slots.get_mut(&key) {
            Some(slot) => {
                slot.content = Content::Whole(text);
                slot.updated_at = now;
                slot.pushes += 1;
            }
            None => {
                self.slots.insert(
                    key,
                    Slot {
                        content: Content::Whole(text),
                        updated_at: now,
                        pushes: 1,
                    },
                );
                self.order.push_back(key);
            }
        }
        self.check(now)
    }

    /// One trade of `code` for the `executions` channel; `prefix` is the message up to its array's
    /// `[` (the same for every trade of the stock), `item` the trade's JSON object.
    pub fn push_execution(
        &mut self,
        code: StockCode,
        prefix: &Arc<str>,
        item: Arc<str>,
        now: Instant,
    ) -> Result<(), Closed> {
        self.open()?;
        self.behind += 1;
        let key = Key::Executions(code);
        let max = self.config.max_batched_executions.max(1);
        match self.slots.get_mut(&key) {
            Some(slot) => {
                if let Content::Executions { items, .. } = &mut slot.content {
                    if items.len() >= max {
                        items.pop_front();
                    }
                    items.push_back(item);
                } else {
                    slot.content = Content::Executions {
                        prefix: prefix.clone(),
                        items: VecDeque::from([item]),
                    };
                }
                slot.updated_at = now;
                slot.pushes += 1;
            }
            None => {
                self.slots.insert(
                    key,
                    Slot {
                        content: Content::Executions {
                            prefix: prefix.clone(),
                            items: VecDeque::from([item]),
                        },
                        updated_at: now,
                        pushes: 1,
                    },
                );
                self.order.push_back(key);
            }
        }
        self.check(now)
    }

    /// A trigger: queued unless its id was already queued or delivered; held while a resume is
    /// being answered.
    pub fn push_trigger(&mut self, id: u64, text: Arc<str>, now: Instant) -> Result<(), Closed> {
        self.open()?;
        if let Some(resume) = &mut self.resume {
            resume.held.push((id, text));
            return Ok(());
        }
        if id <= self.trigger_high_water {
            return Ok(());
        }
        self.trigger_high_water = id;
        self.behind += 1;
        self.urgent.push_back(Urgent {
            text,
            at: now,
            trigger_id: Some(id),
            unstored: false,
        });
        self.check(now)
    }

    /// A reply to the client (an `error` message): never dropped.
    pub fn push_reply(&mut self, text: Arc<str>, now: Instant) -> Result<(), Closed> {
        self.open()?;
        self.behind += 1;
        self.urgent.push_back(Urgent {
            text,
            at: now,
            trigger_id: None,
            unstored: false,
        });
        self.check(now)
    }

    /// A trigger the store could not take yet (no id): queued in the lossless lane, unless a resume
    /// or a new connection's hold is under way (the hub sends every trigger still unstored when it
    /// ends, see [`OutQueue::is_holding`]).
    pub fn push_unstored(&mut self, text: Arc<str>, now: Instant) -> Result<(), Closed> {
        self.open()?;
        if self.resume.is_some() {
            return Ok(());
        }
        self.behind += 1;
        self.urgent.push_back(Urgent {
            text,
            at: now,
            trigger_id: None,
            unstored: true,
        });
        self.check(now)
    }

    /// Whether live triggers are held (a resume being answered, or a new connection's hold).
    pub fn is_holding(&self) -> bool {
        self.resume.is_some()
    }

    /// The client asked for every trigger after `after`: from now on live triggers are held until
    /// [`OutQueue::finish_resume`] delivers the stored ones. Call it *before* reading the store, so a
    /// trigger stored meanwhile is either in the read or held (triggers are stored before they are
    /// pushed). Triggers queued and not yet sent are dropped here: the store read has them (and the
    /// hub sends the still unstored ones again when the resume ends).
    pub fn begin_resume(&mut self, after: u64) {
        if self.closed.is_some() {
            return;
        }
        let before = self.urgent.len();
        self.urgent.retain(|u| u.trigger_id.is_none() && !u.unstored);
        self.behind -= (before - self.urgent.len()) as u64;
        self.trigger_high_water = after;
        self.resume
            .get_or_insert(Resume {
                held: Vec::new(),
                asked: true,
            })
            .asked = true;
    }

    /// A new connection: live triggers are held until the client resumes (then they follow the
    /// stored ones, each once) or [`OutQueue::release_hold`] ends the hold.
    pub fn hold_triggers(&mut self) {
        if self.closed.is_none() {
            self.resume.get_or_insert(Resume {
                held: Vec::new(),
                asked: false,
            });
        }
    }

    /// Ends a new connection's hold if the client did not resume: the held triggers go out, in
    /// order. A resume being answered is left alone.
    pub fn release_hold(&mut self, now: Instant) -> Result<(), Closed> {
        match &self.resume {
            Some(r) if !r.asked => self.finish_resume(Vec::new(), now),
            _ => Ok(()),
        }
    }

    /// Every stored trigger after the resume point (any order; ids at or below it are skipped), then
    /// the ones held meanwhile, each id once.
    pub fn finish_resume(&mut self, mut stored: Vec<(u64, Arc<str>)>, now: Instant) -> Result<(), Closed> {
        self.open()?;
        let held = self.resume.take().map(|r| r.held).unwrap_or_default();
        stored.sort_by_key(|(id, _)| *id);
        for (id, text) in stored.into_iter().chain(held) {
            self.push_trigger(id, text, now)?;
        }
        Ok(())
    }

    /// The next message: triggers and replies first, then market data in the order their keys
    /// were first queued.
    pub fn pop(&mut self) -> Option<Delivery> {
        if let Some(u) = self.urgent.pop_front() {
            self.behind -= 1;
            return Some(Delivery {
                text: u.text,
                enqueued_at: u.at,
                trigger_id: u.trigger_id,
            });
        }
        let key = self.order.pop_front()?;
        let slot = self.slots.remove(&key)?;
        self.behind -= slot.pushes;
        let text = match slot.content {
            Content::Whole(text) => text,
            Content::Executions { prefix, items } => {
                let mut s = String::with_capacity(
                    prefix.len() + items.iter().map(|i| i.len() + 1).sum::<usize>() + 2,
                );
                s.push_str(&prefix);
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        s.push(',');
                    }
                    s.push_str(item);
                }
                s.push_str("]}");
                Arc::from(s)
            }
        };
        Some(Delivery {
            text,
            enqueued_at: slot.updated_at,
            trigger_id: None,
        })
    }

    /// Pops everything pending (at most `max` messages) into `out`, in [`OutQueue::pop`] order, and
    /// notes that a socket write of them begins now.
    pub fn take_batch(&mut self, out: &mut Vec<Delivery>, max: usize, now: Instant) {
        while out.len() < max {
            match self.pop() {
                Some(d) => out.push(d),
                None => break,
            }
        }
        if !out.is_empty() && self.writing_since.is_none() {
            self.writing_since = Some(now);
        }
    }

    /// The socket write begun by [`OutQueue::take_batch`] completed.
    pub fn written(&mut self) {
        self.writing_since = None;
    }

    /// Cuts the client off as too slow (its writer gave up on a blocked write).
    pub fn cut_off(&mut self) {
        if self.closed.is_none() {
            self.close_too_slow();
        }
    }

    fn open(&self) -> Result<(), Closed> {
        match self.closed {
            Some(_) => Err(Closed),
            None => Ok(()),
        }
    }

    /// Cuts the client off when its socket stopped draining or too much is pending.
    fn check(&mut self, now: Instant) -> Result<(), Closed> {
        let stalled = self
            .writing_since
            .is_some_and(|t| now.saturating_duration_since(t) > self.config.max_stall);
        if stalled || self.pending() > self.config.max_pending {
            self.close_too_slow();
            return Err(Closed);
        }
        Ok(())
    }

    fn close_too_slow(&mut self) {
        self.closed = Some(CloseReason {
            code: CLOSE_TOO_SLOW,
            reason: format!("too slow: {} messages behind", self.behind),
        });
        self.urgent = VecDeque::new();
        self.order = VecDeque::new();
        self.slots = HashMap::new();
        self.resume = None;
        self.writing_since = None;
    }
}

/// What the connection's writer task does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    Message(Delivery),
    /// Send a close frame with this code and reason, then stop.
    Close(CloseReason),
}

/// An [`OutQueue`] shared by the hub (pushing) and one connection's writer (receiving).
#[derive(Debug, Clone)]
pub struct Outbox {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    queue: Mutex<OutQueue>,
    ready: Notify,
}

impl Outbox {
    pub fn new(config: QueueConfig) -> Outbox {
        Outbox {
            shared: Arc::new(Shared {
                queue: Mutex::new(OutQueue::new(config)),
                ready: Notify::new(),
            }),
        }
    }

    /// Runs `f` on the queue and wakes the writer.
    pub fn with<T>(&self, f: impl FnOnce(&mut OutQueue) -> T) -> T {
        let out = f(&mut self.lock());
        self.shared.ready.notify_one();
        out
    }

    pub fn push(&self, key: Key, text: Arc<str>) -> Result<(), Closed> {
        self.with(|q| q.push(key, text, Instant::now()))
    }

    pub fn push_trigger(&self, id: u64, text: Arc<str>) -> Result<(), Closed> {
        self.with(|q| q.push_trigger(id, text, Instant::now()))
    }

    pub fn push_reply(&self, text: Arc<str>) -> Result<(), Closed> {
        self.with(|q| q.push_reply(text, Instant::now()))
    }

    /// Ends the connection (server shutdown, or the hub dropping the client) with this close frame.
    pub fn close(&self, code: u16, reason: &str) {
        self.with(|q| {
            if q.closed.is_none() {
                q.closed = Some(CloseReason {
                    code,
                    reason: reason.to_owned(),
                });
            }
        });
    }

    pub fn is_closed(&self) -> bool {
        self.lock().closed.is_some()
    }

    /// Waits for at least one message and takes everything pending (at most `max`) into `out`, for
    /// one socket write; call [`Outbox::written`] when it completed. After a close, the close frame
    /// to send instead (`out` untouched).
    pub async fn recv_batch(&self, out: &mut Vec<Delivery>, max: usize) -> Result<(), CloseReason> {
        loop {
            {
                let mut q = self.lock();
                if let Some(reason) = &q.closed {
                    return Err(reason.clone());
                }
                q.take_batch(out, max, Instant::now());
                if !out.is_empty() {
                    return Ok(());
                }
            }
            self.shared.ready.notified().await;
        }
    }

    /// The write of the last batch completed.
    pub fn written(&self) {
        self.lock().written();
    }

    /// The writer gave up on a blocked write: cut the client off (close 1008).
    pub fn cut_off(&self) {
        self.with(OutQueue::cut_off);
    }

    /// The close reason, once closed.
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.lock().closed.clone()
    }

    pub fn config(&self) -> QueueConfig {
        self.lock().config
    }

    /// The next message, waiting for one; after a close, the close frame to send (again on every
    /// call, so a writer that stops at the first one is right).
    pub async fn recv(&self) -> Outgoing {
        loop {
            {
                let mut q = self.lock();
                if let Some(reason) = &q.closed {
                    return Outgoing::Close(reason.clone());
                }
                if let Some(d) = q.pop() {
                    return Outgoing::Message(d);
                }
            }
            // notify_one stores a permit when the writer is not waiting yet, so no wake-up is lost.
            self.shared.ready.notified().await;
        }
    }

    fn lock(&self) -> MutexGuard<'_, OutQueue> {
        // A panic while holding the lock cannot leave the queue half-updated in a way that matters
        // more than losing the client; keep serving.
        self.shared.queue.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests;
