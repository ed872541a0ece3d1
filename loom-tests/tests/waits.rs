//! The wait records (a receive as a wait on the channel's senders, a send
//! as their signal) in every interleaving of the two halves of the event
//! loop's hang: a sender that takes `state` on its way to `send`, and a
//! receiver that receives holding `state`. A message is already in the
//! channel, so neither half blocks; whichever of the two orders comes
//! second closes the cycle and is reported, exactly once.
#![cfg(loom)]

use loom::sync::Arc;
use loom::thread;
use loom_tests::model;

fn halves(receive_holding_state: bool) -> Vec<String> {
    let state = Arc::new(lockgraph::Mutex::new(0));
    let (tx, rx) = lockgraph::sync::mpsc::channel::<u32>();
    tx.send(1).unwrap();
    let sender = {
        let state = state.clone();
        thread::spawn(move || {
            loom_tests::catch(|| {
                *state.lock().unwrap() += 1;
                tx.send(2).unwrap();
            })
            .err()
        })
    };
    let receiver = loom_tests::catch(|| {
        let held = receive_holding_state.then(|| state.lock().unwrap());
        let first = rx.recv().unwrap();
        drop(held);
        first
    });
    let mut reports: Vec<String> = receiver.err().into_iter().collect();
    reports.extend(sender.join().unwrap());
    reports
}

#[test]
fn a_receive_holding_what_the_sender_needs_is_reported_once_in_every_interleaving() {
    model(|| {
        let reports = halves(true);
        assert_eq!(reports.len(), 1, "{reports:?}");
        assert!(
            reports[0]
                .starts_with("potential deadlock: a receiver waits holding a lock its sender"),
            "{reports:?}"
        );
    });
}

#[test]
fn a_receive_holding_nothing_is_clean_in_every_interleaving() {
    model(|| assert_eq!(halves(false), Vec::<String>::new()));
}
