use std::collections::HashSet;

use tokio::sync::broadcast;

use super::*;
use crate::contract::TriggerValues;
use crate::outbound::{Outbound, OutboundPolicy};
use crate::triggers::TriggerEvent;

fn trigger(minute: u32) -> Fired {
    Fired {
        code: "005930".into(),
        name: "삼성전자".into(),
        condition_id: 1,
        condition_name: "c".into(),
        period: "1m".into(),
        bar_time: format!("2026-11-27T{:02}:{:02}:00+09:00", 9 + minute / 60, minute % 60),
        time: format!("2026-11-27T{:02}:{:02}:31+09:00", 9 + minute / 60, minute % 60),
        price: 71_000,
        values: TriggerValues(vec![("close".into(), 71_000.0)]),
        late: false,
        // Long enough that a page of the triggers table fills after a few rows.
        message_ko: "메시지 ".repeat(40),
        message: format!("trigger of minute {minute} ") + &"x".repeat(200),
    }
}

struct Setup {
    _dir: tempfile::TempDir,
    store: Store,
    recorder: Recorder,
    events: broadcast::Receiver<TriggerEvent>,
    tasks: Tasks,
}

fn setup(capacity: usize) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), "t").unwrap();
    let tasks = Tasks::new();
    let delivery = Delivery::new(tasks.clone(), Outbound::new(OutboundPolicy::default()));
    let events = delivery.subscribe();
    let recorder = Recorder::with_capacity(store.clone(), delivery, capacity);
    tasks.spawn_finishing(recorder.clone().run(tasks.clone()));
    Setup {
        _dir: dir,
        store,
        recorder,
        events,
        tasks,
    }
}

async fn next_event(events: &mut broadcast::Receiver<TriggerEvent>) -> TriggerEvent {
    tokio::time::timeout(Duration::from_secs(30), events.recv())
        .await
        .expect("an event within 30 s")
        .expect("the broadcast is open")
}

/// A real full database: SQLite's `max_page_count` pinned to the file's size, so every write that
/// needs a new page fails with SQLITE_FULL, as on a full disk. Triggers go in until one does not;
/// those after it are held behind it; none is lost or stored twice once space returns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_database_holds_triggers_and_stores_each_once_when_space_returns() {
    let Setup {
        _dir,
        store,
        recorder,
        mut events,
        tasks,
    } = setup(CAPACITY);
    let limit = store.set_max_page_count(1).unwrap();
    assert!(limit > 1, "the limit is the file's size: {limit} pages");
    let mut stored = Vec::new();
    let mut minute = 0;
    // Fill the database's last free page.
    let first_held = loop {
        assert!(minute < 500, "the database never filled up");
        match recorder.record(trigger(minute), None).await {
            Recorded::Stored(id) => stored.push(id),
            Recorded::Held => break minute,
            other => panic!("minute {minute}: {other:?}"),
        }
        minute += 1;
    };
    assert!(store.write_health().failing.is_some(), "the store knows it fails");
    // Triggers after the first held one are held behind it, in order, even if one might fit.
    for m in first_held + 1..first_held + 6 {
        assert_eq!(recorder.record(trigger(m), None).await, Recorded::Held);
    }
    // The same bar firing again while held is a duplicate, as in the store.
    assert_eq!(
        recorder.record(trigger(first_held + 2), None).await,
        Recorded::Duplicate
    );
    let held: Vec<String> = (first_held..first_held + 6).map(|m| trigger(m).key()).collect();
    let status = recorder.status();
    assert_eq!(status.waiting, 6);
    let reason = status.reason().unwrap();
    assert!(
        reason.starts_with("store: 6 triggers waiting to be stored: ") && reason.contains("full"),
        "{reason}"
    );
    // Each was delivered at once, unstored, in firing order.
    let mut unstored = Vec::new();
    while unstored.len() < 6 {
        match next_event(&mut events).await {
            TriggerEvent::Unstored { trigger, kept } => {
                assert!(kept);
                unstored.push(trigger.key());
            }
            TriggerEvent::Stored(row) => assert!(stored.contains(&row.id)),
            TriggerEvent::Settled(k) => panic!("settled {k}"),
        }
    }
    assert_eq!(unstored, held);

    // Space returns: each held trigger is stored once, in firing order, and delivered with its id.
    store.set_max_page_count(1 << 30).unwrap();
    let mut late = Vec::new();
    while late.len() < 6 {
        if let TriggerEvent::Stored(row) = next_event(&mut events).await {
            late.push(row);
        }
    }
    assert_eq!(late.iter().map(|r| r.key.clone()).collect::<Vec<_>>(), held);
    let last = *stored.last().unwrap();
    assert!(late.windows(2).all(|w| w[0].id < w[1].id) && late[0].id > last);
    let status = recorder.status();
    assert_eq!((status.waiting, status.stored_late, status.unkept), (0, 6, 0));
    assert_eq!(status.reason(), None);
    assert!(store.write_health().failing.is_none());
    let all = store.triggers_after(0).await.unwrap();
    assert_eq!(all.len(), stored.len() + 6, "none lost");
    let keys: HashSet<String> = all.iter().map(|r| r.key.clone()).collect();
    assert_eq!(keys.len(), all.len(), "none twice");
    // And new triggers are stored at once again.
    assert!(matches!(
        recorder.record(trigger(first_held + 10), None).await,
        Recorded::Stored(_)
    ));
    tasks.shutdown(Duration::from_secs(5)).await;
}

/// Past the bound a trigger is still delivered, marked as one that will never be stored, and
/// counted; health says so.
#[tokio::test]
async fn beyond_the_bound_triggers_are_delivered_and_counted_never_silently_dropped() {
    let Setup {
        _dir,
        store,
        recorder,
        mut events,
        tasks,
    } = setup(3);
    store.inject_full_disk(true);
    for m in 0..5 {
        let expected = if m < 3 { Recorded::Held } else { Recorded::Unkept };
        assert_eq!(recorder.record(trigger(m), None).await, expected, "minute {m}");
    }
    let mut kept = Vec::new();
    for _ in 0..5 {
        match next_event(&mut events).await {
            TriggerEvent::Unstored { kept: k, .. } => kept.push(k),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(kept, [true, true, true, false, false]);
    let status = recorder.status();
    assert_eq!((status.waiting, status.unkept), (3, 2));
    let reason = status.reason().unwrap();
    assert!(
        reason.contains("3 triggers waiting") && reason.contains("injected") && reason.contains("2 more"),
        "{reason}"
    );
    store.inject_full_disk(false);
    let mut late = 0;
    while late < 3 {
        if let TriggerEvent::Stored(_) = next_event(&mut events).await {
            late += 1;
        }
    }
    assert_eq!(store.triggers_after(0).await.unwrap().len(), 3);
    tasks.shutdown(Duration::from_secs(5)).await;
}

/// Stopping makes one last attempt: what the store takes by then is stored, not lost.
#[tokio::test]
async fn stopping_stores_what_the_store_takes_by_then() {
    let Setup {
        _dir,
        store,
        recorder,
        events: _events,
        tasks,
    } = setup(CAPACITY);
    store.inject_full_disk(true);
    for m in 0..4 {
        assert_eq!(recorder.record(trigger(m), None).await, Recorded::Held);
    }
    store.inject_full_disk(false);
    assert!(tasks.shutdown(Duration::from_secs(5)).await);
    assert_eq!(store.triggers_after(0).await.unwrap().len(), 4);
    assert_eq!(recorder.status().waiting, 0);
}
