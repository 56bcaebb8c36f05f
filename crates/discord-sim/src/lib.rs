pub use axum; pub use rcgen; pub use tokio_rustls; pub use hyper_util; pub use tower; pub use clap; pub use chrono; pub use tracing_subscriber; pub use thiserror; pub use hyper;
