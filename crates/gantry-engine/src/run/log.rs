//! Where a step's (or a job's) lines go: masked, to its log file and as
//! [`RunEvent`]s.

use std::path::PathBuf;
use std::sync::Arc;

use super::RunEvent;
use super::job::Shared;
use super::process::Stream;

/// Where a step's lines go: masked, to its log file and as events.
pub(crate) struct LogSink {
    shared: Arc<Shared>,
    job: String,
    step: Option<usize>,
    /// Where the log goes; the file is created with the first line, so a
    /// silent step costs no file.
    path: Option<PathBuf>,
    file: Option<std::fs::File>,
    pub(crate) group: Option<String>,
}

impl LogSink {
    pub(crate) fn new(
        shared: Arc<Shared>,
        job: &str,
        step: Option<usize>,
        path: Option<PathBuf>,
    ) -> Self {
        Self {
            shared,
            job: job.to_string(),
            step,
            path,
            file: None,
            group: None,
        }
    }

    /// The log file, opened on first use. A log that cannot be opened is
    /// given up once, not retried on every line.
    fn file(&mut self) -> Option<&mut std::fs::File> {
        if self.file.is_none() {
            let path = self.path.take()?;
            if let Some(dir) = path.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            self.file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .ok();
        }
        self.file.as_mut()
    }

    pub(crate) fn line(&mut self, stream: Stream, text: &str) {
        use std::io::Write;
        let masked = self.shared.masker.mask(text);
        if let Some(f) = self.file() {
            let _ = writeln!(f, "{masked}");
        }
        self.shared.emit(RunEvent::Log {
            job: self.job.clone(),
            step: self.step,
            stream,
            line: masked,
            group: self.group.clone(),
        });
    }

    /// A line for the log file only (its event is sent another way).
    pub(crate) fn file_only(&mut self, text: &str) {
        use std::io::Write;
        let masked = self.shared.masker.mask(text);
        if let Some(f) = self.file() {
            let _ = writeln!(f, "{masked}");
        }
    }

    pub(crate) fn info(&mut self, text: &str) {
        self.line(Stream::Stdout, text);
    }

    pub(crate) fn error(&mut self, text: &str) {
        self.annotate("error", text, None, None);
    }

    pub(crate) fn warning(&mut self, text: &str) {
        self.annotate("warning", text, None, None);
    }

    pub(crate) fn annotate(
        &mut self,
        level: &str,
        text: &str,
        file: Option<String>,
        line: Option<u32>,
    ) {
        let masked = self.shared.masker.mask(text);
        self.line(Stream::Stderr, &format!("{level}: {masked}"));
        let file = file.map(|f| self.shared.masker.mask(&f));
        self.shared.emit(RunEvent::Annotation {
            job: self.job.clone(),
            step: self.step,
            level: level.to_string(),
            message: masked,
            file,
            line,
        });
    }
}
