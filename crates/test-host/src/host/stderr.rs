//! The guest's stderr: kept in memory like `MemoryOutputPipe`, and counting the writes
//! the guest makes, each one a host call (`wasi:io` `write`).

use bytes::Bytes;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

#[derive(Clone)]
pub struct CountingPipe {
    pipe: MemoryOutputPipe,
    writes: Arc<AtomicUsize>,
}

impl CountingPipe {
    pub fn new(capacity: usize) -> CountingPipe {
        CountingPipe {
            pipe: MemoryOutputPipe::new(capacity),
            writes: Arc::default(),
        }
    }

    pub fn contents(&self) -> Bytes {
        self.pipe.contents()
    }

    /// How many `write`s the guest made.
    pub fn writes(&self) -> usize {
        self.writes.load(Ordering::Relaxed)
    }
}

impl IsTerminal for CountingPipe {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CountingPipe {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.pipe.clone())
    }
}

impl Pollable for CountingPipe {
    // The signature `#[async_trait]` gives `async fn ready(&mut self)`.
    fn ready<'life, 'fut>(&'life mut self) -> Pin<Box<dyn Future<Output = ()> + Send + 'fut>>
    where
        'life: 'fut,
        Self: 'fut,
    {
        // Always ready, like the memory pipe it wraps.
        Box::pin(async {})
    }
}

impl OutputStream for CountingPipe {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.writes.fetch_add(1, Ordering::Relaxed);
        self.pipe.write(bytes)
    }

    fn flush(&mut self) -> StreamResult<()> {
        self.pipe.flush()
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        self.pipe.check_write()
    }
}
