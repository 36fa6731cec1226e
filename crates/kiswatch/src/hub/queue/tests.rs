//! The queue's promises: latest wins, trades batch, triggers arrive all, in order, once — also
//! across a cut-off and a resume — and memory stays bounded.

use std::time::Duration;

use proptest::prelude::*;

use super::*;

fn code(i: usize) -> StockCode {
    StockCode::parse(&format!("{:06}", 5930 + i)).unwrap()
}

fn text(s: &str) -> Arc<str> {
    Arc::from(s)
}

fn roomy() -> QueueConfig {
    QueueConfig {
        max_pending: usize::MAX,
        max_stall: Duration::from_secs(3600),
        max_batched_executions: 3,
    }
}

fn drain(q: &mut OutQueue) -> Vec<String> {
    std::iter::from_fn(|| q.pop())
        .map(|d| d.text.to_string())
        .collect()
}

#[test]
fn latest_tick_wins_and_keeps_its_place() {
    let mut q = OutQueue::new(roomy());
    let t = Instant::now();
    q.push(Key::Tick(code(0)), text("a1"), t).unwrap();
    q.push(Key::OrderBook(code(0)), text("b1"), t).unwrap();
    q.push(Key::Tick(code(0)), text("a2"), t + Duration::from_millis(5))
        .unwrap();
    q.push(Key::Candle(code(0), Period::M30), text("c1"), t).unwrap();
    q.push(Key::Candle(code(0), Period::M1), text("m1"), t).unwrap();
    q.push(Key::Candle(code(0), Period::M30), text("c2"), t).unwrap();
    assert_eq!((q.pending(), q.behind()), (4, 6));
    let first = q.pop().unwrap();
    assert_eq!(&*first.text, "a2");
    assert_eq!(first.enqueued_at, t + Duration::from_millis(5));
    assert_eq!(drain(&mut q), ["b1", "c2", "m1"]);
    assert_eq!(q.behind(), 0);
}

#[test]
fn trades_batch_oldest_first_and_bounded() {
    let mut q = OutQueue::new(roomy());
    let t = Instant::now();
    let prefix = text(r#"{"type":"executions","code":"005930","executions":["#);
    for i in 1..=4 {
        q.push_execution(code(0), &prefix, text(&format!("{{\"p\":{i}}}")), t)
            .unwrap();
    }
    let out = drain(&mut q);
    assert_eq!(
        out,
        [r#"{"type":"executions","code":"005930","executions":[{"p":2},{"p":3},{"p":4}]}"#]
    );
    let v: serde_json::Value = serde_json::from_str(&out[0]).unwrap();
    assert_eq!(v["executions"].as_array().unwrap().len(), 3);
}

#[test]
fn triggers_and_replies_jump_the_line_in_order_and_once() {
    let mut q = OutQueue::new(roomy());
    let t = Instant::now();
    q.push(Key::Tick(code(0)), text("tick"), t).unwrap();
    q.push_trigger(1, text("t1"), t).unwrap();
    q.push_reply(text("err"), t).unwrap();
    q.push_trigger(2, text("t2"), t).unwrap();
    q.push_trigger(2, text("t2 again"), t).unwrap();
    q.push_trigger(1, text("t1 again"), t).unwrap();
    assert_eq!(drain(&mut q), ["t1", "err", "t2", "tick"]);
}

#[test]
fn a_client_whose_socket_stops_draining_is_cut_off_with_a_reason() {
    let config = QueueConfig {
        max_stall: Duration::from_secs(1),
        ..roomy()
    };
    let mut q = OutQueue::new(config);
    let t = Instant::now();
    q.push(Key::Tick(code(0)), text("a"), t).unwrap();
    let mut batch = Vec::new();
    // The writer takes the tick and its socket write blocks.
    q.take_batch(&mut batch, 64, t);
    assert_eq!(batch.len(), 1);
    q.push(Key::Tick(code(0)), text("b"), t + Duration::from_millis(500))
        .unwrap();
    q.push_trigger(1, text("t1"), t + Duration::from_millis(900))
        .unwrap();
    assert_eq!(
        q.push(Key::Tick(code(1)), text("c"), t + Duration::from_millis(1001)),
        Err(Closed)
    );
    assert_eq!(
        q.close_reason(),
        Some(&CloseReason {
            code: 1008,
            reason: "too slow: 3 messages behind".into()
        })
    );
    assert_eq!(q.pending(), 0);
    assert_eq!(q.pop(), None);
    assert_eq!(q.push_trigger(2, text("t2"), t), Err(Closed));
}

#[test]
fn a_client_waiting_for_its_turn_is_not_slow() {
    // Nothing is taken for a long time (the runtime is busy, the writer has not run): the client
    // is not cut off, and what waits is one entry per key, the latest value.
    let config = QueueConfig {
        max_stall: Duration::from_millis(100),
        ..roomy()
    };
    let mut q = OutQueue::new(config);
    let mut t = Instant::now();
    for i in 0..10_000u32 {
        t += Duration::from_millis(1);
        q.push(Key::Tick(code(i as usize % 20)), text(&i.to_string()), t)
            .unwrap();
    }
    assert!(q.close_reason().is_none());
    assert_eq!((q.pending(), q.behind()), (20, 10_000));
    // Its writer gets a turn: one batch of 20, written at once.
    let mut batch = Vec::new();
    q.take_batch(&mut batch, 64, t);
    q.written();
    assert_eq!(batch.len(), 20);
    assert_eq!(&*batch[19].text, "9999");
    t += Duration::from_secs(60);
    q.push(Key::Tick(code(0)), text("x"), t).unwrap();
    assert!(q.close_reason().is_none());
}

#[test]
fn a_client_that_keeps_up_is_never_cut_off() {
    let config = QueueConfig {
        max_stall: Duration::from_millis(100),
        max_pending: 2,
        ..roomy()
    };
    let mut q = OutQueue::new(config);
    let mut t = Instant::now();
    let mut batch = Vec::new();
    for i in 0..1000 {
        t += Duration::from_millis(60);
        q.push(Key::Tick(code(i % 2)), text("x"), t).unwrap();
        batch.clear();
        q.take_batch(&mut batch, 64, t);
        assert_eq!(batch.len(), 1);
        // Each write takes 90 ms: slow, but under the bound.
        q.push(Key::Tick(code(i % 2)), text("y"), t + Duration::from_millis(90))
            .unwrap();
        q.written();
        q.pop().unwrap();
    }
    assert!(q.close_reason().is_none());
    // Too many distinct keys pending is a cut-off too.
    q.push(Key::Tick(code(0)), text("x"), t).unwrap();
    q.push(Key::Tick(code(1)), text("x"), t).unwrap();
    assert_eq!(q.push(Key::Tick(code(2)), text("x"), t), Err(Closed));
}

#[test]
fn a_batch_is_bounded_and_in_order() {
    let mut q = OutQueue::new(roomy());
    let t = Instant::now();
    for i in 0..5 {
        q.push(Key::Tick(code(i)), text(&format!("tick {i}")), t).unwrap();
    }
    q.push_trigger(1, text("t1"), t).unwrap();
    let mut batch = Vec::new();
    q.take_batch(&mut batch, 4, t);
    let texts: Vec<&str> = batch.iter().map(|d| &*d.text).collect();
    assert_eq!(texts, ["t1", "tick 0", "tick 1", "tick 2"]);
    assert_eq!(drain(&mut q), ["tick 3", "tick 4"]);
}

#[test]
fn resume_delivers_stored_then_held_each_once() {
    let mut q = OutQueue::new(roomy());
    let t = Instant::now();
    q.push_trigger(5, text("t5"), t).unwrap();
    q.begin_resume(2);
    // Live triggers while the store is read: held. 7 is also in the store read.
    q.push_trigger(7, text("t7 live"), t).unwrap();
    q.push_trigger(8, text("t8 live"), t).unwrap();
    assert_eq!(q.pending(), 0);
    let stored = vec![
        (7, text("t7")),
        (3, text("t3")),
        (5, text("t5")),
        (2, text("t2 not after")),
        (6, text("t6")),
    ];
    q.finish_resume(stored, t).unwrap();
    assert_eq!(drain(&mut q), ["t3", "t5", "t6", "t7", "t8 live"]);
}

#[test]
fn a_new_connection_holds_triggers_until_it_resumes() {
    let mut q = OutQueue::new(roomy());
    let t = Instant::now();
    q.hold_triggers();
    // Fired while the browser reconnects, before its resume (it last saw 2).
    q.push_trigger(5, text("t5 live"), t).unwrap();
    assert_eq!(q.pending(), 0, "held");
    q.begin_resume(2);
    // The grace ending while the store is read changes nothing: the resume delivers.
    q.release_hold(t).unwrap();
    assert_eq!(q.pending(), 0);
    q.push_trigger(6, text("t6 live"), t).unwrap();
    let stored = vec![(3, text("t3")), (4, text("t4")), (5, text("t5"))];
    q.finish_resume(stored, t).unwrap();
    assert_eq!(drain(&mut q), ["t3", "t4", "t5", "t6 live"]);
    q.push_trigger(7, text("t7"), t).unwrap();
    assert_eq!(drain(&mut q), ["t7"], "no hold after the resume");
}

#[test]
fn a_connection_that_does_not_resume_gets_its_held_triggers_when_the_grace_ends() {
    let mut q = OutQueue::new(roomy());
    let t = Instant::now();
    q.hold_triggers();
    q.push_trigger(8, text("t8"), t).unwrap();
    q.push(Key::Tick(code(0)), text("tick"), t).unwrap();
    assert_eq!(drain(&mut q), ["tick"], "market data is not held");
    q.push_trigger(9, text("t9"), t).unwrap();
    q.release_hold(t).unwrap();
    q.push_trigger(10, text("t10"), t).unwrap();
    assert_eq!(drain(&mut q), ["t8", "t9", "t10"]);
    q.release_hold(t).unwrap();
    assert_eq!(q.pending(), 0, "releasing again does nothing");
}

#[tokio::test(start_paused = true)]
async fn the_writer_wakes_for_each_message_and_stops_at_the_close() {
    let outbox = Outbox::new(QueueConfig::default());
    let writer = {
        let outbox = outbox.clone();
        tokio::spawn(async move {
            let mut got = Vec::new();
            loop {
                match outbox.recv().await {
                    Outgoing::Message(d) => got.push(d.text.to_string()),
                    Outgoing::Close(reason) => return (got, reason),
                }
            }
        })
    };
    outbox.push_trigger(1, text("t1")).unwrap();
    tokio::task::yield_now().await;
    outbox.push(Key::Tick(code(0)), text("tick")).unwrap();
    tokio::task::yield_now().await;
    outbox.close(1001, "server shutting down");
    let (got, reason) = writer.await.unwrap();
    assert_eq!(got, ["t1", "tick"]);
    assert_eq!(reason.code, 1001);
}

#[derive(Debug, Clone)]
enum Op {
    Tick(usize, u32),
    Book(usize, u32),
    Trade(usize),
    Trigger,
    Pop(usize),
    Wait(u64),
    /// The writer takes a batch and its socket write blocks (until the next `Pop`).
    Stall,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0usize..5, any::<u32>()).prop_map(|(k, v)| Op::Tick(k, v)),
        2 => (0usize..5, any::<u32>()).prop_map(|(k, v)| Op::Book(k, v)),
        2 => (0usize..5).prop_map(Op::Trade),
        1 => Just(Op::Trigger),
        3 => (0usize..4).prop_map(Op::Pop),
        1 => (0u64..800).prop_map(Op::Wait),
        1 => Just(Op::Stall),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Without cut-offs: every trigger once, in order; each key's last delivery is its last value;
    /// pending entries never exceed the distinct keys plus undelivered triggers.
    #[test]
    fn coalescing_loses_only_superseded_values(ops in proptest::collection::vec(op(), 1..400)) {
        let mut q = OutQueue::new(roomy());
        let t = Instant::now();
        let prefix = text("{\"executions\":[");
        let mut next_trigger = 1u64;
        let mut last_tick = HashMap::new();
        let mut delivered = Vec::new();
        let mut undelivered_triggers = 0usize;
        for op in ops {
            match op {
                Op::Tick(k, v) => { q.push(Key::Tick(code(k)), text(&format!("tick {k} {v}")), t).unwrap(); last_tick.insert(k, v); }
                Op::Book(k, v) => q.push(Key::OrderBook(code(k)), text(&format!("book {k} {v}")), t).unwrap(),
                Op::Trade(k) => q.push_execution(code(k), &prefix, text("{}"), t).unwrap(),
                Op::Trigger => { q.push_trigger(next_trigger, text(&format!("trigger {next_trigger}")), t).unwrap(); next_trigger += 1; undelivered_triggers += 1; }
                Op::Pop(n) => for _ in 0..n {
                    if let Some(d) = q.pop() {
                        if d.trigger_id.is_some() { undelivered_triggers -= 1; }
                        delivered.push(d.text.to_string());
                    }
                },
                Op::Wait(_) => {}
                Op::Stall => {
                    let mut batch = Vec::new();
                    q.take_batch(&mut batch, 4, t);
                    for d in batch {
                        if d.trigger_id.is_some() { undelivered_triggers -= 1; }
                        delivered.push(d.text.to_string());
                    }
                    q.written();
                }
            }
            prop_assert!(q.pending() <= 15 + undelivered_triggers);
        }
        delivered.extend(drain(&mut q));
        let triggers: Vec<String> = delivered.iter().filter(|d| d.starts_with("trigger")).cloned().collect();
        let expected: Vec<String> = (1..next_trigger).map(|i| format!("trigger {i}")).collect();
        prop_assert_eq!(triggers, expected);
        for (k, v) in last_tick {
            let last = delivered.iter().rev().find(|d| d.starts_with(&format!("tick {k} "))).cloned();
            prop_assert_eq!(last, Some(format!("tick {k} {v}")));
        }
        for d in delivered.iter().filter(|d| d.starts_with("{\"executions\"")) {
            let v: serde_json::Value = serde_json::from_str(d).unwrap();
            prop_assert!(v["executions"].as_array().unwrap().len() <= 3);
        }
    }

    /// With cut-offs: a client that falls behind is closed, reconnects with `resume` from the last
    /// trigger it got, and over all its connections receives every trigger exactly once, in order.
    #[test]
    fn triggers_survive_cut_offs_through_resume(ops in proptest::collection::vec(op(), 1..400)) {
        let config = QueueConfig { max_stall: Duration::from_secs(1), max_pending: 8, max_batched_executions: 3 };
        let mut store: Vec<(u64, Arc<str>)> = Vec::new();
        let mut q = OutQueue::new(config);
        let mut now = Instant::now();
        let prefix = text("{\"executions\":[");
        let mut got: Vec<u64> = Vec::new();
        let mut cut_offs = 0;
        for op in ops {
            let pushed = match op {
                Op::Tick(k, v) => q.push(Key::Tick(code(k)), text(&v.to_string()), now),
                Op::Book(k, v) => q.push(Key::OrderBook(code(k)), text(&v.to_string()), now),
                Op::Trade(k) => q.push_execution(code(k), &prefix, text("{}"), now),
                Op::Trigger => {
                    // Stored, then pushed.
                    let id = store.len() as u64 + 1;
                    store.push((id, text(&format!("trigger {id}"))));
                    q.push_trigger(id, store[store.len() - 1].1.clone(), now)
                }
                Op::Pop(n) => {
                    q.written();
                    for _ in 0..n {
                        if let Some(id) = q.pop().and_then(|d| d.trigger_id) { got.push(id); }
                    }
                    Ok(())
                }
                Op::Wait(ms) => { now += Duration::from_millis(ms); Ok(()) }
                Op::Stall => {
                    // What the writer took reached the browser before its socket blocked.
                    let mut batch = Vec::new();
                    q.take_batch(&mut batch, 2, now);
                    got.extend(batch.iter().filter_map(|d| d.trigger_id));
                    Ok(())
                }
            };
            if pushed.is_err() {
                // The browser reconnects and resumes after the last trigger it saw.
                cut_offs += 1;
                prop_assert!(q.close_reason().unwrap().reason.starts_with("too slow: "));
                q = OutQueue::new(config);
                let after = got.last().copied().unwrap_or(0);
                q.begin_resume(after);
                let stored = store.iter().filter(|(id, _)| *id > after).cloned().collect();
                if q.finish_resume(stored, now).is_err() {
                    // Cut off again at once (more than 8 missed): a fresh connection drains as it goes.
                    q = OutQueue::new(QueueConfig { max_pending: usize::MAX, ..config });
                    q.begin_resume(after);
                    let stored = store.iter().filter(|(id, _)| *id > after).cloned().collect();
                    q.finish_resume(stored, now).unwrap();
                }
            }
        }
        while let Some(d) = q.pop() {
            if let Some(id) = d.trigger_id { got.push(id); }
        }
        let expected: Vec<u64> = (1..=store.len() as u64).collect();
        prop_assert_eq!(got, expected, "after {} cut-offs", cut_offs);
    }
}
