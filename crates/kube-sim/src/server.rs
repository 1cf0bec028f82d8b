//! Serving: the accept loop, the fault gate in front of the router, and [`SimHandle`] for
//! running a simulator inside a test or another program.
//!
//! The accept loop is our own (hyper's HTTP/1 connection driver rather than
//! `axum::serve`) because a connection-reset fault has to drop the connection without
//! writing a response, which a handler cannot do.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};
use tower::ServiceExt;

use crate::api::{self, AppState};
use crate::config::{SimArgs, SimConfig};
use crate::controllers;
use crate::faults::{self, FaultControl};
use crate::kubeconfig::kubeconfig_yaml;
use crate::store::Store;

/// What the startup log line and `--help` say the simulator is.
pub const TEST_DOUBLE_NOTICE: &str =
    "kube-sim is a simulated Kubernetes API server: a test double, not a cluster";

/// A failure to start or run the simulator.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The listen address could not be bound.
    #[error("failed to bind {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The kubeconfig could not be written.
    #[error("failed to write kubeconfig {path}")]
    Kubeconfig {
        /// Where.
        path: String,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The listener failed.
    #[error("failed to read the listener's address")]
    Listener(#[source] io::Error),
}

/// Serves the simulated API on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    config: SimConfig,
    shutdown: impl Future<Output = ()> + Send,
) {
    let faults = FaultControl::new(config.faults.clone());
    serve_with(listener, config, faults, shutdown).await;
}

async fn serve_with(
    listener: TcpListener,
    config: SimConfig,
    faults: FaultControl,
    shutdown: impl Future<Output = ()> + Send,
) {
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(url = %format!("http://{addr}"), "{TEST_DOUBLE_NOTICE}; listening");
    }
    let (stop_tx, stopping) = watch::channel(false);
    let store = Arc::new(Store::new(config.watch_history));
    crate::auth::bootstrap(&store);
    let state = Arc::new(AppState {
        store: store.clone(),
        faults: faults.clone(),
        config: config.clone(),
        stopping,
        tokens: Default::default(),
    });
    let controllers = tokio::spawn(controllers::run(
        store,
        faults.clone(),
        config.ready_delay,
        config.programs.clone(),
        state.stopping.clone(),
    ));
    let router = api::app(state.clone());
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(error) => {
                        tracing::warn!(%error, "kube-sim failed to accept a connection");
                        continue;
                    }
                };
                // Watch events are small writes; Nagle would hold them back.
                let _ = stream.set_nodelay(true);
                let router = router.clone();
                let faults = faults.clone();
                connections.spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        gate(router.clone(), faults.clone(), request)
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
                // Reap finished connections so the set does not grow without bound.
                while connections.try_join_next().is_some() {}
            }
        }
    }
    let _ = stop_tx.send(true);
    connections.abort_all();
    controllers.abort();
}

/// Dropping the connection is how a service tells hyper to close it without answering.
#[derive(Debug, thiserror::Error)]
#[error("kube-sim injected a connection reset")]
struct InjectedReset;

async fn gate(
    router: Router,
    faults: FaultControl,
    request: hyper::Request<Incoming>,
) -> Result<Response, InjectedReset> {
    if let Some(verb) = faults::classify(request.method(), request.uri()) {
        let decision = faults.decide(verb);
        if let Some(delay) = decision.delay {
            tokio::time::sleep(delay).await;
        }
        if decision.reset {
            return Err(InjectedReset);
        }
        if let Some(error) = decision.error {
            return Ok(error.into_response());
        }
    }
    let response = router.oneshot(request.map(Body::new)).await;
    Ok(response.unwrap_or_else(|never| match never {}))
}

/// A simulator running in the background of this process.
#[derive(Debug)]
pub struct SimHandle {
    addr: SocketAddr,
    faults: FaultControl,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl SimHandle {
    /// Starts a simulator on a free port of 127.0.0.1.
    pub async fn start(config: SimConfig) -> Result<Self, SimError> {
        let addr = SocketAddr::from(([127, 0, 0, 1], 0));
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| SimError::Bind { addr, source })?;
        Self::start_on(listener, config)
    }

    /// Starts a simulator on an already bound listener.
    pub fn start_on(listener: TcpListener, config: SimConfig) -> Result<Self, SimError> {
        let addr = listener.local_addr().map_err(SimError::Listener)?;
        let faults = FaultControl::new(config.faults.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve_with(listener, config, faults.clone(), async {
            let _ = stopped.await;
        }));
        Ok(Self {
            addr,
            faults,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The address the simulator listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A kube-rs configuration for the simulator (no credentials, so kube-sim's
    /// unrestricted admin; namespace `default`).
    pub fn kube_config(&self) -> kube::Config {
        // The URL is built from a socket address, so it always parses.
        let url = self
            .url()
            .parse()
            .unwrap_or_else(|_| axum::http::Uri::from_static("http://127.0.0.1"));
        kube::Config::new(url)
    }

    /// A kube-rs client for the simulator.
    pub fn client(&self) -> Result<kube::Client, kube::Error> {
        kube::Client::try_from(self.kube_config())
    }

    /// Runtime control over injected faults.
    pub fn faults(&self) -> &FaultControl {
        &self.faults
    }

    /// A kubeconfig pointing at this simulator.
    pub fn kubeconfig(&self) -> String {
        kubeconfig_yaml(&self.url())
    }

    /// Stops the simulator and waits for it to finish.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Runs the simulator as a program would: binds `--listen`, writes the kubeconfig if
/// asked, logs that it is a test double, and serves until `shutdown` completes.
pub async fn run(
    args: &SimArgs,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), SimError> {
    let listener = TcpListener::bind(args.listen)
        .await
        .map_err(|source| SimError::Bind {
            addr: args.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(SimError::Listener)?;
    let url = format!("http://{addr}");
    if let Some(path) = &args.kubeconfig_out {
        write_kubeconfig(path, &url)?;
    }
    if let Some(path) = &args.kubeconfig_out {
        tracing::info!(kubeconfig = %path.display(), "kube-sim wrote a kubeconfig (context kube-sim)");
    }
    serve(listener, args.config(), shutdown).await;
    Ok(())
}

fn write_kubeconfig(path: &Path, url: &str) -> Result<(), SimError> {
    std::fs::write(path, kubeconfig_yaml(url)).map_err(|source| SimError::Kubeconfig {
        path: path.display().to_string(),
        source,
    })
}
