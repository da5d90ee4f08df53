//! Running requests: each on a fresh instance, as a task on a runtime shaped like
//! Spin's, with a timeout, turning whatever the guest does (answers, traps, returns
//! without a response) into a [`HostResponse`].

use std::sync::OnceLock;
use std::time::Duration;

use http_body_util::BodyExt;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::WasiHttpView;

use super::incoming::spin_request;
use super::instance::new_store;
use super::response::{synthetic_500, HostResponse};
use super::stats::RequestStats;
use super::stderr::CountingPipe;
use super::Host;

/// How much of the guest's stderr/stdout one request may write before writes fail.
const PIPE_CAPACITY: usize = 4 << 20;
/// A request that takes longer than this is reported as a trap instead of hanging the
/// test suite (it cannot interrupt a guest spinning in pure wasm, only one that waits).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

impl Host {
    /// Serve one request with a fresh instance. Callable from many threads at once;
    /// from inside a tokio runtime it runs on a helper thread.
    pub fn request(&self, req: http::Request<Vec<u8>>) -> HostResponse {
        if tokio::runtime::Handle::try_current().is_ok() {
            // block_on cannot nest in a runtime; a scoped thread has none.
            return std::thread::scope(|s| {
                s.spawn(|| self.request_blocking(req))
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p))
            });
        }
        self.request_blocking(req)
    }

    fn request_blocking(&self, req: http::Request<Vec<u8>>) -> HostResponse {
        // As Spin serves a request: a task on a multi-threaded runtime with a worker per
        // core, whose host calls hand SQLite's work to the runtime's blocking pool. The
        // calling thread only waits, like the client of a real server.
        let host = Host {
            shared: self.shared.clone(),
        };
        let task = spin_runtime().spawn(async move { host.request_async(req).await });
        RUNTIME
            .with(|rt| rt.block_on(task))
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
    }

    /// The async form of [`Host::request`], for callers that run their own tokio
    /// runtime (e.g. a benchmark).
    pub async fn request_async(&self, req: http::Request<Vec<u8>>) -> HostResponse {
        let stderr = CountingPipe::new(PIPE_CAPACITY);
        let stdout = MemoryOutputPipe::new(PIPE_CAPACITY);
        let mut store = new_store(&self.shared, stdout.clone(), stderr.clone());

        let outcome = tokio::time::timeout(REQUEST_TIMEOUT, async {
            let incoming = spin_request(req);
            let (sender, receiver) = tokio::sync::oneshot::channel();
            let data = store.data_mut();
            let prepared = data
                .http()
                .new_incoming_request(Scheme::Http, incoming)
                .and_then(|r| Ok((r, data.http().new_response_outparam(sender)?)));
            let (req, out) = match prepared {
                Ok(v) => v,
                Err(e) => panic!("host could not build the wasi-http request: {e:?}"),
            };

            let pre = self.shared.compiled.pre.clone();
            // The task owns the store: it is dropped as soon as the guest returns or
            // traps, which drops the response sender and wakes `receiver` below.
            let mut task = AbortOnDrop(tokio::spawn(async move {
                let result = async {
                    let proxy = pre.instantiate_async(&mut store).await?;
                    proxy
                        .wasi_http_incoming_handler()
                        .call_handle(&mut store, req, out)
                        .await
                }
                .await;
                let mut stats = std::mem::take(&mut store.data_mut().spin.stats);
                stats.peak_memory_bytes = store.data().memory.bytes;
                stats.memory_grows = store.data().memory.grows;
                drop(store);
                (result, stats)
            }));

            let mut response = match receiver.await {
                Ok(Ok(resp)) => {
                    let (parts, body) = resp.into_parts();
                    // The guest may still be writing the body: collect while the task runs.
                    let (body, body_error) = match body.collect().await {
                        Ok(collected) => (collected.to_bytes().to_vec(), None),
                        Err(e) => (Vec::new(), Some(format!("response body failed: {e:?}"))),
                    };
                    HostResponse {
                        status: parts.status.as_u16(),
                        headers: parts.headers,
                        body,
                        trap: body_error,
                        stderr: String::new(),
                        stdout: String::new(),
                        stats: RequestStats::default(),
                    }
                }
                Ok(Err(code)) => synthetic_500(format!("guest answered with error-code {code:?}")),
                // The sender was dropped unused: the guest trapped or returned without
                // a response; the task's result says which.
                Err(_) => synthetic_500("guest returned without setting a response".to_string()),
            };

            let (result, stats) = (&mut task.0)
                .await
                .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
            response.stats = stats;
            if let Err(e) = result {
                response.trap = Some(format!("{e:?}"));
            }
            response
        })
        .await;

        let mut response = outcome.unwrap_or_else(|_| {
            synthetic_500(format!("request did not finish within {REQUEST_TIMEOUT:?}"))
        });
        response.stderr = String::from_utf8_lossy(&stderr.contents()).into_owned();
        response.stats.stderr_writes = stderr.writes();
        response.stdout = String::from_utf8_lossy(&stdout.contents()).into_owned();
        response
    }

    /// Instantiate the component and drop it without a request: measures the fixed
    /// per-request cost of the host.
    pub fn instantiate_idle(&self) {
        let mut store = new_store(
            &self.shared,
            MemoryOutputPipe::new(PIPE_CAPACITY),
            CountingPipe::new(PIPE_CAPACITY),
        );
        let pre = self.shared.compiled.pre.clone();
        let instantiate = async move {
            pre.instantiate_async(&mut store)
                .await
                .map(drop)
                .unwrap_or_else(|e| panic!("instantiation failed: {e:?}"));
        };
        if tokio::runtime::Handle::try_current().is_ok() {
            std::thread::scope(|s| {
                s.spawn(|| RUNTIME.with(|rt| rt.block_on(instantiate)))
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p))
            })
        } else {
            RUNTIME.with(|rt| rt.block_on(instantiate))
        }
    }
}

/// Aborts the guest's task when a request is abandoned (timeout), so it does not
/// linger on the calling thread's runtime.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The runtime requests run on, shaped like Spin's: tokio's multi-threaded scheduler with
/// one worker per core (Spin's default), so a guest's host calls cost the same thread
/// hand-offs as on `spin up`.
fn spin_runtime() -> &'static tokio::runtime::Runtime {
    static SPIN: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    SPIN.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("spin-worker")
            .build()
            .expect("cannot build the host's multi-threaded runtime")
    })
}

thread_local! {
    /// One current-thread runtime per calling thread: requests from different test
    /// threads never wait on each other's blocking SQLite calls.
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("cannot build a tokio runtime for the test host");
}
