//! The acknowledgement log's lines and their replay, shared by the parent and the
//! child: one write as an intent line names it ([`Op`]), and a run's log replayed onto
//! the model of every user's list ([`replay`]).
//!
//! The lines: `S <run> <unix ms>` (the write loop starts), `I <seq> <user> <op>` (an
//! intent), `K <seq> <user> <op>` (an intent sent with `Idempotency-Key: <seq>`),
//! `A <seq> <status>` (its answer) and, for a keyed write answered 2xx,
//! `A <seq> <status> <etag> <location> <body>` (each hex, `-` when absent: what every
//! replay must repeat), `T <user> <id> <token>` (a token the child holds for the user).

use std::collections::{BTreeMap, HashMap};

/// One write, as logged in an intent line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Op {
    Register,
    Add(i64),
    Remove(i64),
    Replace(Vec<i64>),
}

impl Op {
    pub(super) fn encode(&self) -> String {
        match self {
            Op::Register => "register".to_string(),
            Op::Add(id) => format!("add {id}"),
            Op::Remove(id) => format!("remove {id}"),
            Op::Replace(ids) if ids.is_empty() => "replace -".to_string(),
            Op::Replace(ids) => format!(
                "replace {}",
                ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
            ),
        }
    }

    fn decode(words: &[&str]) -> Option<Op> {
        match words {
            ["register"] => Some(Op::Register),
            ["add", id] => id.parse().ok().map(Op::Add),
            ["remove", id] => id.parse().ok().map(Op::Remove),
            ["replace", "-"] => Some(Op::Replace(Vec::new())),
            ["replace", ids] => ids
                .split(',')
                .map(|id| id.parse().ok())
                .collect::<Option<Vec<i64>>>()
                .map(Op::Replace),
            _ => None,
        }
    }

    /// Whether this operation changes `list` (is answered 2xx) rather than being refused
    /// (409 for an add of a favorite, 404 for a remove of none).
    pub(super) fn changes(&self, list: &[i64]) -> bool {
        match self {
            Op::Add(id) => !list.contains(id),
            Op::Remove(id) => list.contains(id),
            Op::Register | Op::Replace(_) => true,
        }
    }

    /// The user's list after this operation took effect (`None` for a register: the
    /// user comes into being with an empty list).
    pub(super) fn apply(&self, list: &[i64]) -> Vec<i64> {
        match self {
            Op::Register => Vec::new(),
            Op::Add(id) if list.contains(id) => list.to_vec(),
            Op::Add(id) => list.iter().copied().chain([*id]).collect(),
            Op::Remove(id) => list.iter().copied().filter(|x| x != id).collect(),
            Op::Replace(ids) => ids.clone(),
        }
    }
}

/// The parts of a keyed write's answer that a replay repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Answer {
    pub(super) status: u16,
    pub(super) etag: Option<String>,
    pub(super) location: Option<String>,
    pub(super) body: Vec<u8>,
}

impl Answer {
    /// The answer's fields as logged after its status: etag, location, body.
    pub(super) fn encode(&self) -> String {
        let text = |value: Option<&[u8]>| match value {
            Some(bytes) if !bytes.is_empty() => bytes.iter().map(|b| format!("{b:02x}")).collect(),
            _ => "-".to_string(),
        };
        format!(
            "{} {} {}",
            text(self.etag.as_deref().map(str::as_bytes)),
            text(self.location.as_deref().map(str::as_bytes)),
            text(Some(&self.body)),
        )
    }

    fn decode(status: u16, words: &[&str]) -> Option<Answer> {
        let bytes = |word: &str| -> Option<Vec<u8>> {
            if word == "-" {
                return Some(Vec::new());
            }
            (0..word.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(word.get(i..i + 2)?, 16).ok())
                .collect()
        };
        let text = |word: &str| -> Option<Option<String>> {
            match word {
                "-" => Some(None),
                word => String::from_utf8(bytes(word)?).ok().map(Some),
            }
        };
        match words {
            [etag, location, body] => Some(Answer {
                status,
                etag: text(etag)?,
                location: text(location)?,
                body: bytes(body)?,
            }),
            _ => None,
        }
    }
}

/// A keyed write answered 2xx: its key (the log's sequence), user, operation and answer.
#[derive(Debug, Clone)]
pub(super) struct KeyedWrite {
    pub(super) key: String,
    pub(super) user: String,
    pub(super) op: Op,
    pub(super) answer: Answer,
}

/// What one child run logged, replayed.
#[derive(Debug, Default)]
pub(super) struct RunLog {
    /// Operations answered 2xx (applied to the model, in log order).
    pub(super) acknowledged_ops: usize,
    /// Operations answered otherwise (409, 404, 503): they must have changed nothing.
    pub(super) answered_not_2xx: usize,
    /// Operations whose intent is logged but whose answer is not: at most one per user.
    pub(super) in_flight: Vec<(String, Op)>,
    /// Unix milliseconds at which the child's write loop started.
    pub(super) loop_started_ms: Option<u128>,
    /// The keyed writes answered 2xx, in log order.
    pub(super) keyed_acks: Vec<KeyedWrite>,
    /// The keyed writes among `in_flight`: key, user, operation.
    pub(super) keyed_in_flight: Vec<(String, String, Op)>,
    /// The last token logged for each user: their id and the token.
    pub(super) tokens: BTreeMap<String, (i64, String)>,
}

/// Replays the complete lines of `text` (a partial last line was never acknowledged)
/// onto `model`, and returns what the run did.
pub(super) fn replay(text: &str, model: &mut BTreeMap<String, Vec<i64>>) -> RunLog {
    let mut run = RunLog::default();
    let mut intents: HashMap<String, (String, Op, bool)> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    let complete = match text.rfind('\n') {
        Some(end) => &text[..=end],
        None => "",
    };
    for line in complete.lines() {
        let words: Vec<&str> = line.split(' ').collect();
        match words.as_slice() {
            ["S", _run, ms] => run.loop_started_ms = ms.parse().ok(),
            ["T", user, id, token] => {
                let id = id
                    .parse()
                    .unwrap_or_else(|_| panic!("bad token line {line:?}"));
                run.tokens.insert(user.to_string(), (id, token.to_string()));
            }
            [tag @ ("I" | "K"), key, user, op @ ..] => {
                let op = Op::decode(op).unwrap_or_else(|| panic!("bad intent line {line:?}"));
                let keyed = *tag == "K";
                assert!(
                    intents
                        .insert(key.to_string(), (user.to_string(), op, keyed))
                        .is_none(),
                    "intent key {key} logged twice"
                );
                order.push(key.to_string());
            }
            ["A", key, status, answer @ ..] => {
                let status: u16 = status
                    .parse()
                    .unwrap_or_else(|_| panic!("bad answer line {line:?}"));
                let (user, op, keyed) = intents
                    .remove(*key)
                    .unwrap_or_else(|| panic!("answer without an intent: {line:?}"));
                if !(200..300).contains(&status) {
                    assert!(answer.is_empty(), "a refusal with an answer: {line:?}");
                    run.answered_not_2xx += 1;
                    continue;
                }
                if keyed {
                    let answer = Answer::decode(status, answer)
                        .unwrap_or_else(|| panic!("a keyed answer without its parts: {line:?}"));
                    run.keyed_acks.push(KeyedWrite {
                        key: key.to_string(),
                        user: user.clone(),
                        op: op.clone(),
                        answer,
                    });
                } else {
                    assert!(answer.is_empty(), "an unkeyed answer with parts: {line:?}");
                }
                run.acknowledged_ops += 1;
                if op == Op::Register {
                    assert!(
                        model.insert(user.clone(), Vec::new()).is_none(),
                        "{user} acknowledged as registered twice"
                    );
                } else {
                    let list = model
                        .get_mut(&user)
                        .unwrap_or_else(|| panic!("a write for unknown user {user}: {line:?}"));
                    *list = op.apply(list);
                }
            }
            _ => panic!("unreadable log line {line:?}"),
        }
    }
    // A thread's requests are sequential: only its last intent may lack an answer.
    let mut last_of_thread: HashMap<&str, &str> = HashMap::new();
    for key in &order {
        let thread = key.rsplit_once('.').map_or(key.as_str(), |(t, _)| t);
        last_of_thread.insert(thread, key);
    }
    for key in &order {
        if let Some((user, op, keyed)) = intents.remove(key) {
            let thread = key.rsplit_once('.').map_or(key.as_str(), |(t, _)| t);
            assert_eq!(
                last_of_thread.get(thread),
                Some(&key.as_str()),
                "{key} ({user} {op:?}) has no answer, yet its thread went on"
            );
            assert!(
                run.in_flight.iter().all(|(u, _)| *u != user),
                "two operations in flight for {user}: the child's threads share a user"
            );
            if keyed {
                run.keyed_in_flight
                    .push((key.clone(), user.clone(), op.clone()));
            }
            run.in_flight.push((user, op));
        }
    }
    run
}
