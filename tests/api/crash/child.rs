//! The child's writers: threads that each own their users and write as fast as they
//! can, logging an intent before every request and its answer after, and checking every
//! answer against their own model of the lists. About half of the favorites writes carry
//! an `Idempotency-Key` (the log's sequence of the write, never used before), and their
//! 2xx answers are logged whole, for the parent to see them replayed after the kill.

use super::files::unix_ms;
use super::keyed::send;
use super::log::{Answer, Op};
use crate::helpers::TestApp;
use std::fs::File;
use std::io::Write;
use std::sync::Mutex;

/// Operations per writer thread after which a child that was never killed stops.
const MAX_OPS_PER_THREAD: usize = 100_000;
/// New users per writer thread and run (each costs an Argon2 hash, and a login in
/// every later run).
const MAX_REGISTRATIONS_PER_THREAD: usize = 3;
/// Pokémon ids the child writes: a small range, so adds and removes collide with lists.
const POKEMON_RANGE: u64 = 40;

/// A tiny deterministic generator, seeded per thread from the clock.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// The acknowledgement log, shared by the child's threads. Each line goes out in one
/// `write` on an `O_APPEND` file: once `line` returns, the line survives a SIGKILL.
pub(super) struct AckLog(pub(super) Mutex<File>);

impl AckLog {
    pub(super) fn line(&self, text: String) {
        let mut file = self.0.lock().unwrap_or_else(|p| p.into_inner());
        file.write_all(format!("{text}\n").as_bytes())
            .and_then(|()| file.flush())
            .expect("append to the acknowledgement log");
    }

    /// Logs the token the child holds for `user` (the parent replays keyed writes with it).
    pub(super) fn token(&self, user: &crate::helpers::TestUser) {
        self.line(format!("T {} {} {}", user.username, user.id, user.token));
    }
}

/// A user this child writes for, with the list the answers so far imply.
pub(super) struct Owned {
    pub(super) user: crate::helpers::TestUser,
    pub(super) list: Vec<i64>,
}

/// One writer thread: its users, a random mix of writes, every answer checked against
/// the thread's own model before it is logged.
pub(super) fn writer(app: &TestApp, log: &AckLog, run: u32, thread: usize, mut users: Vec<Owned>) {
    let seed = (unix_ms() as u64) ^ (u64::from(run) << 32) ^ ((thread as u64 + 1) << 48);
    let mut rng = Rng(seed | 1);
    let mut registered = 0;
    for seq in 0..MAX_OPS_PER_THREAD {
        let key = format!("{run}.{thread}.{seq}");
        let roll = rng.below(100);
        if users.is_empty() || (roll < 2 && registered < MAX_REGISTRATIONS_PER_THREAD) {
            registered += 1;
            let username = format!("c{run}t{thread}n{registered}");
            log.line(format!("I {key} {username} register"));
            let password = format!("{username}-password");
            let response = app.register(&username, &password);
            log.line(format!("A {key} {}", response.status));
            match response.status {
                201 => {
                    let login = app.login(&username, &password);
                    assert_eq!(login.status, 200, "login {username}: {}", login.text());
                    let user = crate::helpers::TestUser {
                        id: response.json()["id"].as_i64().expect("an id"),
                        username,
                        password,
                        token: login.json()["access_token"]
                            .as_str()
                            .expect("a token")
                            .to_string(),
                    };
                    log.token(&user);
                    users.push(Owned {
                        user,
                        list: Vec::new(),
                    });
                }
                503 => {}
                other => panic!("register {username}: {other} {}", response.text()),
            }
            continue;
        }
        let pick = rng.below(users.len() as u64) as usize;
        let owned = &mut users[pick];
        let op = match roll {
            2..=49 => Op::Add(1 + rng.below(POKEMON_RANGE) as i64),
            50..=84 if !owned.list.is_empty() && rng.below(4) != 0 => {
                Op::Remove(owned.list[rng.below(owned.list.len() as u64) as usize])
            }
            50..=84 => Op::Remove(1 + rng.below(POKEMON_RANGE) as i64),
            _ => {
                let mut ids: Vec<i64> = Vec::new();
                for _ in 0..rng.below(7) {
                    let id = 1 + rng.below(POKEMON_RANGE) as i64;
                    if !ids.contains(&id) {
                        ids.push(id);
                    }
                }
                Op::Replace(ids)
            }
        };
        let keyed = rng.below(2) == 0;
        let tag = if keyed { "K" } else { "I" };
        log.line(format!(
            "{tag} {key} {} {}",
            owned.user.username,
            op.encode()
        ));
        let response = send(app, &owned.user, &op, keyed.then_some(key.as_str()));
        let expected = match &op {
            Op::Add(_) if op.changes(&owned.list) => 201,
            Op::Add(_) => 409,
            Op::Remove(_) if op.changes(&owned.list) => 204,
            Op::Remove(_) => 404,
            Op::Replace(_) => 200,
            Op::Register => unreachable!("handled above"),
        };
        if keyed && (200..300).contains(&response.status) {
            assert_eq!(
                response.header("idempotent-replayed"),
                None,
                "{key}: a new key is decided, not replayed"
            );
            let answer = Answer {
                status: response.status,
                etag: response.header("etag").map(str::to_string),
                location: response.header("location").map(str::to_string),
                body: response.body.clone(),
            };
            log.line(format!("A {key} {} {}", response.status, answer.encode()));
        } else {
            log.line(format!("A {key} {}", response.status));
        }
        assert!(
            response.status == expected || response.status == 503,
            "{} {op:?}: expected {expected}, got {} {}",
            owned.user.username,
            response.status,
            response.text()
        );
        if (200..300).contains(&response.status) {
            owned.list = op.apply(&owned.list);
        }
    }
}
