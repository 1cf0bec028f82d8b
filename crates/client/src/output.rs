//! Where command results go, in the format the person chose: tables and lines for people,
//! the API's JSON for scripts (pretty for one answer, one document per line for a stream).

use std::io::Write;

use serde::Serialize;
use storeplane_api::dto::{EventView, StoreView};

use crate::args::OutputFormat;
use crate::render;

/// Writes results to one output (stdout, or a buffer in tests).
pub(crate) struct Printer<'a, W> {
    out: &'a mut W,
    format: OutputFormat,
}

impl<'a, W: Write> Printer<'a, W> {
    pub(crate) fn new(out: &'a mut W, format: OutputFormat) -> Self {
        Self { out, format }
    }

    pub(crate) fn format(&self) -> OutputFormat {
        self.format
    }

    /// One answer: `table` uses `human`, `json` pretty-prints `value` as the API sent it.
    pub(crate) fn answer<T: Serialize>(&mut self, value: &T, human: &str) -> std::io::Result<()> {
        match self.format {
            OutputFormat::Table => writeln!(self.out, "{human}"),
            OutputFormat::Json => {
                serde_json::to_writer_pretty(&mut *self.out, value)?;
                writeln!(self.out)
            }
        }
    }

    /// One store, as the single answer of a command.
    pub(crate) fn store(&mut self, store: &StoreView) -> std::io::Result<()> {
        self.answer(store, &render::store_details(store))
    }

    /// One item of a stream; flushed at once so that a person watching sees it now.
    pub(crate) fn streamed<T: Serialize>(&mut self, value: &T, human: &str) -> std::io::Result<()> {
        match self.format {
            OutputFormat::Table => writeln!(self.out, "{human}")?,
            OutputFormat::Json => {
                serde_json::to_writer(&mut *self.out, value)?;
                writeln!(self.out)?;
            }
        }
        self.out.flush()
    }

    /// A timeline event within a stream.
    pub(crate) fn event(&mut self, event: &EventView) -> std::io::Result<()> {
        self.streamed(event, &render::event_line(event))
    }

    /// A line for people only (progress, hints); scripts reading JSON never see it.
    pub(crate) fn note(&mut self, text: &str) -> std::io::Result<()> {
        match self.format {
            OutputFormat::Table => {
                writeln!(self.out, "{text}")?;
                self.out.flush()
            }
            OutputFormat::Json => Ok(()),
        }
    }
}
