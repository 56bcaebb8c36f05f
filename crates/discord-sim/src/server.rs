//! The two listeners: HTTPS (REST as `https://discord.com`) and plain HTTP
//! (gateway websocket at `/`, control API at `/control`, REST again).

use std::sync::Arc;

use axum::Router;
use axum::extract::{State, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::get;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use crate::shared::Shared;
use crate::{control, gateway, rest};

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", get(upgrade).with_state(shared.clone()))
        .merge(control::router(shared.clone()))
        .merge(rest::router(shared))
}

/// serenity connects to `{url}?v=10`; the query needs no handling.
async fn upgrade(State(shared): State<Arc<Shared>>, ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(move |socket| gateway::conn::serve(shared, socket))
}

/// Accepts connections until the returned task is aborted.
pub(crate) fn serve(listener: TcpListener, app: Router, tls: Option<TlsAcceptor>) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let app = app.clone();
            let tls = tls.clone();
            tokio::spawn(async move {
                let service = TowerToHyperService::new(app);
                let builder = auto::Builder::new(TokioExecutor::new());
                let served = match tls {
                    Some(acceptor) => match acceptor.accept(tcp).await {
                        Ok(stream) => builder.serve_connection_with_upgrades(TokioIo::new(stream), service).await,
                        Err(e) => {
                            tracing::debug!("TLS handshake failed: {e}");
                            return;
                        }
                    },
                    None => builder.serve_connection_with_upgrades(TokioIo::new(tcp), service).await,
                };
                if let Err(e) = served {
                    tracing::debug!("connection ended: {e}");
                }
            });
        }
    })
}
