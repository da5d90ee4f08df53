//! `serve`: the component over real HTTP on 127.0.0.1, hosted by the same Spin-faithful
//! host the tests use (a fresh instance per request, `spin.toml`'s `sqlite_databases`
//! grant and variables). It is how HTTP tools (curl, schemathesis, wrk) reach the
//! component where Spin is not installed. Test code, not a runtime for production: it
//! listens on loopback only, speaks HTTP/1.1 without TLS, and reads each request body
//! whole before the component sees it.
//!
//! ```sh
//! cargo build --target wasm32-wasip2 --release
//! SPIN_VARIABLE_JWT_SECRET="$(openssl rand -hex 32)" \
//!   cargo run -p pokefavs-test-host --bin serve -- --port 3000 [--wasm PATH] [--db PATH]
//! ```
//!
//! - Variables are resolved as `spin up` resolves them: `SPIN_VARIABLE_<NAME>` from the
//!   environment, else `spin.toml`'s default; `jwt_secret` has none, so it must be set.
//! - The `default` database is `--db`, or `.spin/sqlite_db.db` in the repository as for
//!   `spin up`. The component migrates it on its first request, as it does on Spin.
//! - The component is `--wasm`, or the one the tests run (`POKEFAVS_TEST_WASM`, else the
//!   release build, refused when older than its sources).
//! - `--port 0` takes a free port. Once the server listens, the first line on stdout
//!   names its address; the component's log lines go to stderr.

use anyhow::{bail, Context};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use pokefavs_test_host::host::{ClientAddr, Host, HostConfig};
use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::task::{ready, Context as TaskContext, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

const USAGE: &str = "usage: serve [--port N] [--wasm PATH] [--db PATH]";

struct Options {
    port: u16,
    wasm: Option<PathBuf>,
    db: PathBuf,
}

fn options() -> anyhow::Result<Options> {
    let mut options = Options {
        port: 3000,
        wasm: None,
        db: pokefavs_test_host::repo_root().join(".spin/sqlite_db.db"),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let Some(value) = args.next() else {
            bail!("{flag} needs a value; {USAGE}");
        };
        match flag.as_str() {
            "--port" => options.port = value.parse().context("--port takes 0 to 65535")?,
            "--wasm" => options.wasm = Some(value.into()),
            "--db" => options.db = value.into(),
            _ => bail!("unknown argument {flag:?}; {USAGE}"),
        }
    }
    Ok(options)
}

/// The host as `spin up` would set it up: the manifest's variables, provided from the
/// environment (the tests' built-in `jwt_secret` and registration limit are not used:
/// the manifest's defaults are).
fn host(options: &Options) -> anyhow::Result<Host> {
    if let Some(dir) = options.db.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut config = HostConfig::new(options.db.clone())
        .without_variable("jwt_secret")
        .without_variable("register_address_limit");
    for (key, value) in std::env::vars() {
        if let Some(name) = key.strip_prefix("SPIN_VARIABLE_") {
            config = config.variable(&name.to_ascii_lowercase(), &value);
        }
    }
    config.wasm_path = options.wasm.clone();
    Host::new(config)
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("serve: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let options = options()?;
    let host = Arc::new(host(&options)?);
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, options.port))
        .await
        .with_context(|| format!("cannot listen on 127.0.0.1:{}", options.port))?;
    println!(
        "serving {} on http://{} (database {})",
        host.wasm_path().display(),
        listener.local_addr()?,
        options.db.display()
    );
    std::io::stdout().flush()?;
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(connection) => connection,
            Err(err) => {
                eprintln!("serve: accept failed: {err}");
                continue;
            }
        };
        let host = host.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let host = host.clone();
                async move { Ok::<_, std::convert::Infallible>(answer(&host, request, peer).await) }
            });
            // A client that goes away mid-request is no concern of the component's.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(Io(stream), service)
                .await;
        });
    }
}

/// One request through the host, as Spin hands it to the component.
async fn answer(
    host: &Host,
    request: http::Request<Incoming>,
    peer: SocketAddr,
) -> http::Response<Full<Bytes>> {
    let (mut parts, body) = request.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes().to_vec(),
        Err(err) => {
            eprintln!("serve: reading a request body failed: {err}");
            let mut response = http::Response::new(Full::default());
            *response.status_mut() = http::StatusCode::BAD_REQUEST;
            return response;
        }
    };
    // Spin's `spin-client-addr` is the connection's peer, as here.
    parts.extensions.insert(ClientAddr(peer.to_string()));
    let answered = host
        .request_async(http::Request::from_parts(parts, body))
        .await;
    eprint!("{}", answered.stderr);
    if let Some(trap) = &answered.trap {
        eprintln!("serve: the component trapped: {trap}");
    }
    let mut response = http::Response::new(Full::new(Bytes::from(answered.body)));
    *response.status_mut() = http::StatusCode::from_u16(answered.status)
        .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    *response.headers_mut() = answered.headers;
    response
}

/// hyper's I/O traits over a tokio socket.
struct Io(TcpStream);

impl hyper::rt::Read for Io {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        mut buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        let mut chunk = [0u8; 16 * 1024];
        let room = buf.remaining().min(chunk.len());
        let mut read = ReadBuf::new(&mut chunk[..room]);
        ready!(Pin::new(&mut self.get_mut().0).poll_read(cx, &mut read))?;
        buf.put_slice(read.filled());
        Poll::Ready(Ok(()))
    }
}

impl hyper::rt::Write for Io {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
    }
}
