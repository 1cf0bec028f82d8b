//! The last, best-effort step of provisioning: an HTTP request to the new store's
//! storefront through its front door (the Gateway or the Ingress), whose result goes on
//! the timeline. It never fails a store: the workloads are ready by then, and what stands
//! between storeplane and the storefront (DNS, the Gateway or the ingress controller, the
//! network storeplane runs in) is not the store's fault.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// How a storefront is reached for the check.
#[derive(Debug, Clone)]
pub struct StorefrontCheck {
    client: reqwest::Client,
}

/// What the check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The storefront answered with this HTTP status.
    Answered { status: u16, elapsed: Duration },
    /// No answer: the reason, in words.
    Unreachable { reason: String },
}

impl StorefrontCheck {
    /// Checks each store at its own URL within `timeout`. With `via` (`HOST:PORT`), every
    /// store host is reached at that address instead of through DNS (the Gateway's proxy
    /// or the ingress controller's Service from inside the cluster, say), with the store's
    /// host name in the request as usual. The host is looked up at each check.
    pub fn new(timeout: Duration, via: Option<String>) -> Result<Self, reqwest::Error> {
        // reqwest leaves the TLS provider to the program; storeplane uses ring only.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::limited(5))
            .user_agent(concat!("storeplane/", env!("CARGO_PKG_VERSION")));
        if let Some(address) = via {
            builder = builder.dns_resolver(Arc::new(Via(address)));
        }
        Ok(Self {
            client: builder.build()?,
        })
    }

    /// Requests `url` once and says what happened.
    pub async fn check(&self, url: &str) -> Verdict {
        let started = Instant::now();
        match self.client.get(url).send().await {
            Ok(response) => Verdict::Answered {
                status: response.status().as_u16(),
                elapsed: started.elapsed(),
            },
            Err(error) => Verdict::Unreachable {
                reason: describe(&error),
            },
        }
    }
}

/// A reqwest error with its causes, which say what actually went wrong ("connection
/// refused", "failed to lookup address").
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        return "no answer in time".to_owned();
    }
    let mut words = Vec::new();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(error);
    while let Some(cause) = source {
        words.push(cause.to_string());
        source = cause.source();
    }
    words.dedup();
    words.last().cloned().unwrap_or_else(|| error.to_string())
}

/// Resolves every host name to the addresses of one `HOST:PORT`.
struct Via(String);

impl Resolve for Via {
    fn resolve(&self, _: Name) -> Resolving {
        let via = self.0.clone();
        Box::pin(async move {
            let addresses: Vec<SocketAddr> = tokio::net::lookup_host(via.as_str()).await?.collect();
            Ok(Box::new(addresses.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpListener;

    use super::*;

    /// Answers one request with `status` and remembers the Host header it was sent.
    fn one_shot_server(status: &'static str) -> (SocketAddr, std::thread::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let handle = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut request = [0u8; 4096];
            let read = stream.read(&mut request).unwrap();
            let request = String::from_utf8_lossy(&request[..read]).into_owned();
            write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
            )
            .unwrap();
            request
                .lines()
                .find_map(|l| {
                    l.strip_prefix("host: ")
                        .or_else(|| l.strip_prefix("Host: "))
                })
                .unwrap_or_default()
                .to_owned()
        });
        (address, handle)
    }

    #[tokio::test]
    async fn a_store_host_is_reached_through_the_given_address_with_its_own_name() {
        let (address, server) = one_shot_server("200 OK");
        let via = format!("localhost:{}", address.port());
        let check = StorefrontCheck::new(Duration::from_secs(5), Some(via)).unwrap();

        let verdict = check.check("http://acme.shops.example.test/").await;

        assert!(
            matches!(verdict, Verdict::Answered { status: 200, .. }),
            "{verdict:?}"
        );
        assert_eq!(server.join().unwrap(), "acme.shops.example.test");
    }

    #[tokio::test]
    async fn an_error_status_is_reported_as_answered_with_it() {
        let (address, _server) = one_shot_server("503 Service Unavailable");
        let check =
            StorefrontCheck::new(Duration::from_secs(5), Some(address.to_string())).unwrap();

        let verdict = check.check("http://acme.shops.example.test/").await;

        assert!(
            matches!(verdict, Verdict::Answered { status: 503, .. }),
            "{verdict:?}"
        );
    }

    #[tokio::test]
    async fn nothing_listening_is_unreachable_with_the_reason() {
        let closed = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let check = StorefrontCheck::new(Duration::from_secs(5), Some(closed.to_string())).unwrap();

        let verdict = check.check("http://acme.shops.example.test/").await;

        let Verdict::Unreachable { reason } = verdict else {
            panic!("{verdict:?}");
        };
        assert!(reason.to_lowercase().contains("refused"), "{reason}");
    }
}
