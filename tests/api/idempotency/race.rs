//! One key from many clients at once: exactly one request changes the list, every
//! other gets that answer replayed. Without the key the same adds would be one 201 and
//! 409s, the same removals one 204 and 404s, the same replacements each a new version.

use super::{assert_replay, current_tag, keyed, replayed, reset, rows_of_key, text, Write, WRITES};
use crate::helpers::{store_tests, TestApp, TestUser};
use crate::host::HostResponse;
use std::sync::Barrier;

/// Requests sent together per round.
const THREADS: usize = 8;
/// Rounds per write, each with a new key.
const ROUNDS: usize = 5;

store_tests!(one_key_from_many_threads_changes_the_list_once);

/// `THREADS` copies of one request, released together.
fn at_once(app: &TestApp, user: &TestUser, write: Write, key: &str) -> Vec<HostResponse> {
    let barrier = Barrier::new(THREADS);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    write.by(app, user, &keyed(key))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a request thread panicked"))
            .collect()
    })
}

fn one_key_from_many_threads_changes_the_list_once(app: TestApp) {
    let ash = app.user("ash");
    for round in 0..ROUNDS {
        for write in WRITES {
            reset(&app, &ash);
            let key = format!("race-{write:?}-{round}");
            let responses = at_once(&app, &ash, write, &key);
            let what = format!("{write:?}, round {round}");
            let (replays, decided): (Vec<_>, Vec<_>) = responses.iter().partition(|r| replayed(r));
            let answers: Vec<String> = responses
                .iter()
                .map(|r| format!("{} {}", r.status, text(r)))
                .collect();
            assert_eq!(decided.len(), 1, "{what}: one decided, {answers:#?}");
            assert_eq!(replays.len(), THREADS - 1, "{what}");
            let first = decided[0];
            assert_eq!(first.status, write.ok(), "{what}: {}", text(first));
            for replay in replays {
                assert_replay(first, replay);
            }
            // One change: the list, its version, one key row.
            assert_eq!(app.favorite_ids_in_db(ash.id), write.after(), "{what}");
            let tag = current_tag(&app, &ash);
            assert_eq!(first.header("etag"), Some(tag.as_str()), "{what}");
            assert_eq!(rows_of_key(&app, ash.id, &key), 1, "{what}");
        }
    }
}
