//! The history writer: a thread that commits the history writes a run's
//! executor needs no answer from (a step began or ended, a job ended, a
//! cache was looked up) in order and in groups, so a step's bookkeeping
//! never sits between one step and the next.
//!
//! Every write that fails is kept and handed back by the next
//! [`HistoryWriter::flush`] or [`HistoryWriter::finish`]: none is dropped.

use std::fmt;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::Store;
use crate::error::StoreError;
use crate::history::HistoryWrite;

/// The most writes committed together.
const BATCH: usize = 512;

/// How long the writer lets writes gather before committing them: history
/// lags the run by about this much; a flush waits at most this long.
const GROUP_WINDOW: Duration = Duration::from_millis(20);

/// Some of a run's history could not be recorded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HistoryError {
    /// These writes failed (the others were recorded).
    #[error("{}", describe(.0))]
    Failed(Vec<StoreError>),
    /// The writer thread ended before it answered: what was queued may be
    /// missing.
    #[error("the history writer stopped before it had recorded everything queued")]
    WriterStopped,
}

fn describe(failures: &[StoreError]) -> String {
    match failures {
        [] => "no history write failed".to_string(),
        [one] => format!("a history write failed: {one}"),
        [first, rest @ ..] => format!(
            "{} history writes failed; the first: {first}",
            rest.len() + 1
        ),
    }
}

impl HistoryError {
    /// The writes that failed (none for [`HistoryError::WriterStopped`]).
    pub fn failures(&self) -> &[StoreError] {
        match self {
            HistoryError::Failed(f) => f,
            HistoryError::WriterStopped => &[],
        }
    }
}

/// What the writer thread is asked to do.
enum Message {
    Write(HistoryWrite),
    /// Answers, once every write before it is done, with the writes that
    /// failed since the last flush.
    Flush(Sender<Vec<StoreError>>),
}

/// Queues history writes for a thread that commits them in groups, in
/// order. `Send` and `Sync`.
pub struct HistoryWriter {
    store: Arc<Store>,
    /// `None` when there is no writer thread (or it was stopped).
    messages: Option<Sender<Message>>,
    thread: Option<JoinHandle<()>>,
    /// Failures of writes done in place (when there is no writer thread).
    inline_failures: Mutex<Vec<StoreError>>,
}

impl fmt::Debug for HistoryWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HistoryWriter").finish_non_exhaustive()
    }
}

impl HistoryWriter {
    /// Starts the writer thread. Should the system refuse a thread, writes
    /// are done in place instead (slower, but nothing is lost).
    pub fn new(store: Arc<Store>) -> HistoryWriter {
        let (messages, queue) = channel::<Message>();
        let writer_store = store.clone();
        let thread = std::thread::Builder::new()
            .name("gantry-history".into())
            .spawn(move || write_history(&writer_store, &queue))
            .ok();
        HistoryWriter {
            store,
            messages: thread.is_some().then_some(messages),
            thread,
            inline_failures: Mutex::new(Vec::new()),
        }
    }

    /// The store written to.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// Queues a write; its failure, if any, comes back from the next
    /// [`HistoryWriter::flush`].
    pub fn queue(&self, write: HistoryWrite) {
        let unsent = match self.messages.as_ref() {
            Some(tx) => match tx.send(Message::Write(write)) {
                Ok(()) => None,
                Err(std::sync::mpsc::SendError(Message::Write(w))) => Some(w),
                Err(_) => None,
            },
            None => Some(write),
        };
        if let Some(write) = unsent {
            let failures = match self.store.record(std::slice::from_ref(&write)) {
                Ok(failures) => failures,
                Err(e) => vec![e],
            };
            self.inline_failures
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .extend(failures);
        }
    }

    /// Waits until every write queued so far is committed; the writes that
    /// failed since the last flush, if any.
    pub fn flush(&self) -> Result<(), HistoryError> {
        let mut failures = std::mem::take(
            &mut *self
                .inline_failures
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        if let Some(sender) = self.messages.as_ref() {
            let (reply, answer) = channel();
            if sender.send(Message::Flush(reply)).is_err() {
                return Err(HistoryError::WriterStopped);
            }
            match answer.recv() {
                Ok(more) => failures.extend(more),
                Err(_) => return Err(HistoryError::WriterStopped),
            }
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(HistoryError::Failed(failures))
        }
    }

    /// Commits everything queued, stops the thread, and returns what
    /// failed since the last flush.
    pub fn finish(mut self) -> Result<(), HistoryError> {
        let flushed = self.flush();
        self.stop();
        flushed
    }

    fn stop(&mut self) {
        // Closing the queue ends the writer once it has written the rest.
        drop(self.messages.take());
        if let Some(thread) = self.thread.take() {
            // A writer that panicked has nothing left to write; what it
            // failed to answer was reported as `WriterStopped`.
            let _ = thread.join();
        }
    }
}

impl Drop for HistoryWriter {
    /// Writes what is still queued. Failures of writes queued after the
    /// last flush can only be seen through [`HistoryWriter::finish`].
    fn drop(&mut self) {
        self.stop();
    }
}

/// The writer thread: commits what is queued in batches, in order, until
/// the queue closes.
fn write_history(store: &Store, queue: &Receiver<Message>) {
    let mut failed: Vec<StoreError> = Vec::new();
    let mut batch = Vec::with_capacity(BATCH);
    let commit = |batch: &mut Vec<HistoryWrite>, failed: &mut Vec<StoreError>| {
        if batch.is_empty() {
            return;
        }
        match store.record(batch) {
            Ok(errors) => failed.extend(errors),
            Err(e) => failed.push(e),
        }
        batch.clear();
    };
    while let Ok(first) = queue.recv() {
        // Group commit: after a write, the writer sleeps for a moment and
        // then commits everything that arrived meanwhile. Sleeping rather
        // than waiting on the queue means senders never have to wake it:
        // one wake-up and one commit per window, not per write.
        if matches!(first, Message::Write(_)) {
            std::thread::sleep(GROUP_WINDOW);
        }
        let mut next = Some(first);
        while let Some(message) = next.take() {
            match message {
                Message::Write(w) => {
                    batch.push(w);
                    if batch.len() >= BATCH {
                        commit(&mut batch, &mut failed);
                    }
                }
                Message::Flush(reply) => {
                    commit(&mut batch, &mut failed);
                    // A flusher that stopped waiting loses nothing: the
                    // failures go to the next flush.
                    if let Err(std::sync::mpsc::SendError(unheard)) =
                        reply.send(std::mem::take(&mut failed))
                    {
                        failed = unheard;
                    }
                }
            }
            next = queue.try_recv().ok();
        }
        commit(&mut batch, &mut failed);
    }
}
