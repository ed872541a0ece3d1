//! `lockgraph::sync::mpsc`: std's channels, whose messages order the race
//! detector; each ordering with a racing twin, and std's errors.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{expect_clean, expect_report};
use lockgraph::race::Tracked;
use lockgraph::sync::mpsc::{self, RecvTimeoutError, SendError, TryRecvError, TrySendError};

#[test]
fn a_send_happens_before_the_recv_that_takes_it() {
    expect_clean(|| {
        let data = Arc::new(Tracked::named("job", 0u32));
        let (tx, rx) = mpsc::channel();
        let producer = {
            let data = data.clone();
            // A std thread: only the channel orders it.
            std::thread::spawn(move || {
                data.set(7);
                tx.send(()).unwrap();
            })
        };
        rx.recv().unwrap();
        assert_eq!(data.get(), 7);
        producer.join().unwrap();
    });
}

#[test]
fn a_read_before_the_recv_races_with_the_producer() {
    require_detection!();
    let report = expect_report(|| {
        let data = Arc::new(Tracked::named("job", 0u32));
        let (tx, rx) = mpsc::channel();
        let (written, first_written) = std::sync::mpsc::channel();
        let producer = {
            let data = data.clone();
            std::thread::spawn(move || {
                data.set(7);
                written.send(()).unwrap(); // std's: orders nothing
                tx.send(()).unwrap();
            })
        };
        first_written.recv().unwrap();
        let _early = data.get(); // before the lockgraph recv
        rx.recv().unwrap();
        producer.join().unwrap();
    });
    assert!(report.starts_with("race condition:"), "{report}");
}

/// The receiver writes, then receives; the sender reads after its send
/// returned: ordered only by a rendezvous.
fn receiver_writes_then_sender_reads(bound: usize) {
    let data = Arc::new(Tracked::named("reply", 0u32));
    let (tx, rx) = mpsc::sync_channel(bound);
    let receiver = {
        let data = data.clone();
        std::thread::spawn(move || {
            data.set(1);
            rx.recv().unwrap();
        })
    };
    // Let the receiver write before the send (a std sleep orders nothing).
    std::thread::sleep(Duration::from_millis(50));
    tx.send(()).unwrap();
    let _seen = data.get();
    receiver.join().unwrap();
}

#[test]
fn a_rendezvous_orders_the_receiver_before_the_returning_sender() {
    expect_clean(|| receiver_writes_then_sender_reads(0));
}

#[test]
fn a_buffered_send_does_not_wait_for_the_receiver() {
    require_detection!();
    let report = expect_report(|| receiver_writes_then_sender_reads(1));
    assert!(report.starts_with("race condition:"), "{report}");
}

#[test]
fn errors_are_std_s_and_give_the_value_back() {
    let (tx, rx) = mpsc::channel::<String>();
    drop(rx);
    assert_eq!(tx.send("lost".into()), Err(SendError("lost".to_owned())));

    let (tx, rx) = mpsc::sync_channel::<u8>(1);
    tx.try_send(1).unwrap();
    assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(
        rx.recv_timeout(Duration::from_millis(10)),
        Err(RecvTimeoutError::Timeout)
    );
    drop(tx);
    assert_eq!(rx.recv(), Err(mpsc::RecvError));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));

    let (tx, rx) = mpsc::channel();
    for i in 0..3 {
        tx.clone().send(i).unwrap();
    }
    assert_eq!(rx.try_iter().collect::<Vec<_>>(), [0, 1, 2]);
    drop(tx);
    assert_eq!(rx.into_iter().count(), 0);
    let (tx, _rx) = mpsc::channel::<u8>();
    assert_eq!(format!("{tx:?}"), "Sender { .. }");
}
