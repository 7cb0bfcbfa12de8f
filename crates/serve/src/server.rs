//! Listeners and lifecycle: the milter on TCP or a Unix socket, the HTTP API, SIGHUP reload and a graceful
//! SIGTERM (stop accepting, let messages being judged finish, then close; the MTA retries the rest).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use tokio::net::{TcpListener, UnixListener};
use tokio_util::compat::TokioAsyncReadCompatExt;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::milter::MilterSession;
use crate::service::Service;

/// Errors starting the server.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// Address.
        addr: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// Serving HTTP failed.
    #[error("HTTP server: {0}")]
    Http(#[source] std::io::Error),
}

/// Where the milter listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MilterAddr {
    /// `host:port`.
    Tcp(String),
    /// `unix:/path`.
    Unix(PathBuf),
}

impl MilterAddr {
    /// Parses `host:port`, `inet:host:port` or `unix:/path`.
    pub fn parse(s: &str) -> MilterAddr {
        if let Some(path) = s.strip_prefix("unix:") {
            MilterAddr::Unix(PathBuf::from(path))
        } else {
            MilterAddr::Tcp(s.strip_prefix("inet:").unwrap_or(s).to_string())
        }
    }
}

/// The bound listeners.
pub struct Listeners {
    milter: MilterListener,
    http: TcpListener,
}

enum MilterListener {
    Tcp(TcpListener),
    Unix(UnixListener, PathBuf),
}

impl Listeners {
    /// Binds the milter and HTTP listeners (before privileges or readiness are announced).
    pub async fn bind(milter: &MilterAddr, http: &str) -> Result<Listeners, ServerError> {
        let milter = match milter {
            MilterAddr::Tcp(addr) => {
                MilterListener::Tcp(TcpListener::bind(addr).await.map_err(|source| {
                    ServerError::Bind {
                        addr: addr.clone(),
                        source,
                    }
                })?)
            }
            MilterAddr::Unix(path) => {
                // A socket left by a previous run would make bind fail.
                if std::fs::symlink_metadata(path).is_ok_and(|m| {
                    use std::os::unix::fs::FileTypeExt;
                    m.file_type().is_socket()
                }) {
                    let _ = std::fs::remove_file(path);
                }
                let listener = UnixListener::bind(path).map_err(|source| ServerError::Bind {
                    addr: format!("unix:{}", path.display()),
                    source,
                })?;
                MilterListener::Unix(listener, path.clone())
            }
        };
        let http = TcpListener::bind(http)
            .await
            .map_err(|source| ServerError::Bind {
                addr: http.to_string(),
                source,
            })?;
        Ok(Listeners { milter, http })
    }

    /// The milter address as bound (port 0 resolved).
    pub fn milter_addr(&self) -> String {
        match &self.milter {
            MilterListener::Tcp(l) => l.local_addr().map(|a| a.to_string()).unwrap_or_default(),
            MilterListener::Unix(_, p) => format!("unix:{}", p.display()),
        }
    }

    /// The HTTP address as bound.
    pub fn http_addr(&self) -> String {
        self.http
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default()
    }
}

/// Serves until `shutdown` is cancelled (or SIGTERM/SIGINT arrives when `signals` is true).
pub async fn run(
    service: Arc<Service>,
    listeners: Listeners,
    extra_routers: Vec<Router>,
    shutdown: CancellationToken,
    signals: bool,
) -> Result<(), ServerError> {
    if signals {
        spawn_signal_handlers(service.clone(), shutdown.clone());
    }
    let tracker = TaskTracker::new();
    let app = crate::api::router_with(service.clone(), extra_routers);
    let http_shutdown = shutdown.clone();
    let http = tokio::spawn(async move {
        axum::serve(listeners.http, app)
            .with_graceful_shutdown(http_shutdown.cancelled_owned())
            .await
    });
    let milter_listener = listeners.milter;
    loop {
        let accepted = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = accept(&milter_listener) => accepted,
        };
        match accepted {
            Ok(stream) => {
                service.metrics().connections.inc();
                let session_service = service.clone();
                tracker.spawn(async move {
                    let mut session = MilterSession::new(session_service.clone());
                    let mut server = miltr_server::Server::default_postfix(&mut session);
                    let result = match stream {
                        Stream::Tcp(s) => server.handle_connection(&mut s.compat()).await,
                        Stream::Unix(s) => server.handle_connection(&mut s.compat()).await,
                    };
                    if let Err(e) = result {
                        // Protocol garbage or a client gone mid-message: only this connection is affected.
                        session_service.metrics().error("protocol");
                        tracing::info!(error = %e, "milter connection ended with an error");
                    }
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, "milter accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    // Graceful: no new connections and no new transactions (MAIL FROM is answered 421 4.3.2); transactions
    // in flight (MAIL FROM to end of message) get up to `shutdown_grace_ms` to finish, then the sessions go
    // (the MTA applies its milter_default_action to anything unfinished and retries it).
    service.drain();
    tracker.close();
    let grace = Duration::from_millis(service.config().shutdown_grace_ms);
    let start = Instant::now();
    while (service.transactions() > 0 || service.metrics().in_flight.get() > 0)
        && start.elapsed() < grace
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let left = service.transactions();
    if left > 0 {
        tracing::warn!(
            transactions = left,
            "shutdown grace period over; unfinished transactions are left to the MTA's retry"
        );
    }
    if let MilterListener::Unix(_, path) = &milter_listener {
        let _ = std::fs::remove_file(path);
    }
    match http.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(ServerError::Http(e)),
        Err(e) => tracing::warn!(error = %e, "HTTP task ended abnormally"),
    }
    service.store().close().await;
    Ok(())
}

enum Stream {
    Tcp(tokio::net::TcpStream),
    Unix(tokio::net::UnixStream),
}

async fn accept(listener: &MilterListener) -> std::io::Result<Stream> {
    match listener {
        MilterListener::Tcp(l) => l.accept().await.map(|(s, _)| {
            let _ = s.set_nodelay(true);
            Stream::Tcp(s)
        }),
        MilterListener::Unix(l, _) => l.accept().await.map(|(s, _)| Stream::Unix(s)),
    }
}

fn spawn_signal_handlers(service: Arc<Service>, shutdown: CancellationToken) {
    use tokio::signal::unix::{SignalKind, signal};
    tokio::spawn(async move {
        let (Ok(mut term), Ok(mut int), Ok(mut hup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
            signal(SignalKind::hangup()),
        ) else {
            tracing::error!("cannot install signal handlers");
            return;
        };
        loop {
            tokio::select! {
                _ = term.recv() => { tracing::info!("SIGTERM: shutting down"); shutdown.cancel(); return; }
                _ = int.recv() => { tracing::info!("SIGINT: shutting down"); shutdown.cancel(); return; }
                _ = hup.recv() => match service.reload().await {
                    Ok(summary) => tracing::info!(playbook = %summary, "SIGHUP: reloaded"),
                    Err(e) => tracing::error!(error = %e, "SIGHUP: reload rejected, the previous playbook stays"),
                },
            }
        }
    });
}
