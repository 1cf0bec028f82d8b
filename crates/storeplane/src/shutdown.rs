//! The shutdown signal: SIGTERM (what Kubernetes sends) or Ctrl-C, whichever comes first.

use std::future::Future;

/// Listens for the signals from the moment it is called, and resolves when the process is
/// asked to stop. Call it first thing: until the handlers are installed, a SIGTERM (a pod
/// deleted while it starts) would kill the process outright instead of stopping it.
pub fn signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let terminate = listen(tokio::signal::unix::SignalKind::terminate(), "SIGTERM");
    #[cfg(unix)]
    let interrupt = listen(tokio::signal::unix::SignalKind::interrupt(), "Ctrl-C");
    async move {
        #[cfg(unix)]
        tokio::select! {
            () = terminate => tracing::info!("SIGTERM received; shutting down"),
            () = interrupt => tracing::info!("Ctrl-C received; shutting down"),
        }
        #[cfg(not(unix))]
        {
            if let Err(e) = tokio::signal::ctrl_c().await {
                tracing::warn!(error = %e, "cannot listen for Ctrl-C");
                std::future::pending::<()>().await;
            }
            tracing::info!("Ctrl-C received; shutting down");
        }
    }
}

/// Installs the handler for `kind` now; the future resolves on the first such signal, or
/// never if the handler cannot be installed (which is logged).
#[cfg(unix)]
fn listen(
    kind: tokio::signal::unix::SignalKind,
    name: &'static str,
) -> impl Future<Output = ()> + Send + 'static {
    let stream = tokio::signal::unix::signal(kind);
    async move {
        match stream {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for {name}");
                std::future::pending::<()>().await;
            }
        }
    }
}
