//! Interleaving the requests of many records, so that CCV's per-operation allowances are used
//! side by side.
//!
//! CCV limits every operation on its own (100 `POST /products` and 100 `PATCH
//! /attributecombinations/{id}` per minute, …), and the host paces each operation to its limit.
//! A plugin sends one request at a time: written record after record, a configurable product's
//! six combination PATCHes each wait for the previous one's slot while the allowance of every
//! other operation goes unused. So a batch runs as jobs, one per record, each a queue of steps
//! that send one request each, in order; a step may add the steps that depend on its answer to
//! the front of its job's queue. Each job says which operations it expects to send, and how
//! often. The scheduler takes next:
//! - among the operations that rested for the last two requests (with the total limit three
//!   times an operation's, an operation used one request in three goes at its full rate), the
//!   one furthest behind its share of the batch, so that every operation progresses at the pace
//!   its share needs and none is left for a tail at the end; of the jobs that can send it now,
//!   the heaviest (long chains, such as configurable products, started and finished first);
//! - when none has rested, the job whose next operation has rested longest.
//!
//! Among equals, the earliest job: records finish roughly in the order they came.

use std::collections::{HashMap, VecDeque};

/// What a step does when its turn comes: sends its request, records the answer in the job's
/// state, and returns the steps that follow from it.
pub type Run<'a, C, S> = Box<dyn FnOnce(&mut C, &mut S) -> Vec<Step<'a, C, S>> + 'a>;

/// One request of a job, labelled with CCV's operation ("POST /products").
pub struct Step<'a, C, S> {
    operation: String,
    run: Run<'a, C, S>,
}

impl<'a, C, S> Step<'a, C, S> {
    pub fn new(
        operation: String,
        run: impl FnOnce(&mut C, &mut S) -> Vec<Step<'a, C, S>> + 'a,
    ) -> Self {
        Step {
            operation,
            run: Box::new(run),
        }
    }
}

/// A record's state and the steps it still has to take.
pub struct Job<'a, C, S> {
    pub state: S,
    steps: VecDeque<Step<'a, C, S>>,
    /// The requests it expects to send, per operation.
    expected: HashMap<String, usize>,
}

impl<'a, C, S> Job<'a, C, S> {
    pub fn new(
        state: S,
        steps: Vec<Step<'a, C, S>>,
        expected: impl IntoIterator<Item = (String, usize)>,
    ) -> Self {
        let mut counts: HashMap<String, usize> = HashMap::new();
        for (op, n) in expected {
            *counts.entry(op).or_default() += n;
        }
        Job {
            state,
            steps: steps.into(),
            expected: counts,
        }
    }

    fn weight(&self) -> usize {
        self.expected.values().sum()
    }

    /// Whether it took all its steps.
    pub fn finished(&self) -> bool {
        self.steps.is_empty()
    }
}

/// Runs the jobs' steps until all are taken or `stop` says so (the rest are left in the jobs).
pub fn run<'a, C, S>(context: &mut C, jobs: &mut [Job<'a, C, S>], stop: impl Fn(&C) -> bool) {
    let mut rested: HashMap<String, u64> = HashMap::new();
    let mut recent: VecDeque<String> = VecDeque::new();
    let mut share: HashMap<String, f64> = HashMap::new();
    for (op, n) in jobs.iter().flat_map(|job| &job.expected) {
        *share.entry(op.clone()).or_default() += *n as f64;
    }
    let all: f64 = share.values().sum::<f64>().max(1.0);
    let mut sent: HashMap<String, f64> = HashMap::new();
    let mut tick = 0;
    while !stop(context) {
        let heads = jobs
            .iter()
            .enumerate()
            .filter_map(|(i, job)| Some((i, job, &job.steps.front()?.operation)));
        // How far an operation is behind the share of the requests sent so far that it needs.
        let behind = |op: &str| {
            let wanted = share.get(op).copied().unwrap_or(0.0) / all * tick as f64;
            wanted - sent.get(op).copied().unwrap_or(0.0)
        };
        let rested_heaviest = heads
            .clone()
            .filter(|(_, _, op)| !recent.contains(op))
            .max_by(|(i, a, op_a), (j, b, op_b)| {
                behind(op_a)
                    .total_cmp(&behind(op_b))
                    .then(a.weight().cmp(&b.weight()))
                    .then(j.cmp(i))
            })
            .map(|(i, _, _)| i);
        let longest_rested = || {
            heads
                .clone()
                .min_by_key(|(i, _, op)| (rested.get(*op).copied().unwrap_or(0), *i))
                .map(|(i, _, _)| i)
        };
        let Some(i) = rested_heaviest.or_else(longest_rested) else {
            break;
        };
        let step = jobs[i].steps.pop_front().expect("chosen for its next step");
        *sent.entry(step.operation.clone()).or_default() += 1.0;
        tick += 1;
        rested.insert(step.operation.clone(), tick);
        recent.push_back(step.operation);
        if recent.len() > 2 {
            recent.pop_front();
        }
        let follow = (step.run)(context, &mut jobs[i].state);
        for step in follow.into_iter().rev() {
            jobs[i].steps.push_front(step);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Log = Vec<String>;

    /// A step that logs "job:op" and then runs `then`.
    fn step<'a>(job: usize, op: &'static str, then: Vec<Step<'a, Log, ()>>) -> Step<'a, Log, ()> {
        Step::new(op.to_string(), move |log: &mut Log, _: &mut ()| {
            log.push(format!("{job}:{op}"));
            then
        })
    }

    #[test]
    fn consecutive_requests_go_to_different_operations() {
        // Two configurable products: create, then three patches that follow from the create.
        let jobs = (0..2).map(|j| {
            let patches = vec![
                step(j, "patch", vec![]),
                step(j, "patch", vec![]),
                step(j, "patch", vec![]),
            ];
            let expected = [("post".to_string(), 1), ("patch".to_string(), 3)];
            Job::new((), vec![step(j, "post", patches)], expected)
        });
        let mut jobs: Vec<_> = jobs.collect();
        let mut log = Log::new();
        run(&mut log, &mut jobs, |_| false);
        assert_eq!(
            log,
            // The second product is created while the first one's patches are paced.
            [
                "0:post", "0:patch", "1:post", "0:patch", "0:patch", "1:patch", "1:patch",
                "1:patch"
            ]
        );
        assert!(jobs.iter().all(Job::finished));
    }

    #[test]
    fn among_equals_the_longest_chain_starts_first() {
        let mut jobs = vec![
            Job::new((), vec![step(0, "post", vec![])], [("post".to_string(), 1)]),
            Job::new(
                (),
                vec![step(1, "post", vec![step(1, "patch", vec![])])],
                [("post".to_string(), 1), ("patch".to_string(), 1)],
            ),
        ];
        let mut log = Log::new();
        run(&mut log, &mut jobs, |_| false);
        assert_eq!(log, ["1:post", "1:patch", "0:post"]);
    }

    #[test]
    fn a_stop_leaves_the_rest_untaken() {
        let mut jobs = vec![Job::new(
            (),
            vec![step(0, "a", vec![]), step(0, "b", vec![])],
            [],
        )];
        let mut log = Log::new();
        run(&mut log, &mut jobs, |log| log.len() == 1);
        assert_eq!(log, ["0:a"]);
        assert!(!jobs[0].finished());
    }
}
