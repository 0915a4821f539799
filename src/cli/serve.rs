//! `kb serve`: index the articles, then serve the help center and its API until stopped.

use std::sync::Arc;

use anyhow::{Context, Result};
use tokio::net::TcpListener;

use super::ServeArgs;
use kb::index::{SearchIndex, writer};
use kb::metrics::Recorder;
use kb::metrics::sqlite::SqliteStore;
use kb::search::{Engine, Ranking};
use kb::web::{self, AppState, WebConfig};

pub fn run(args: &ServeArgs) -> Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(serve(args.clone()))
}

async fn serve(args: ServeArgs) -> Result<()> {
    let listener = TcpListener::bind(&args.addr).await.with_context(|| {
        format!(
            "cannot listen on {}; is another server using it?",
            args.addr
        )
    })?;
    let store = SqliteStore::open(&args.data).with_context(|| {
        format!(
            "cannot open the metrics database in {}",
            args.data.display()
        )
    })?;
    let retention = args
        .retention_days
        .filter(|&d| d > 0)
        .map(|d| std::time::Duration::from_secs(u64::from(d) * 86_400));
    let (recorder, metrics_writer) = Recorder::start(Box::new(store), retention);
    let state = Arc::new(AppState::new(
        WebConfig {
            articles: args.folders.articles.clone(),
            templates: Some(args.templates.clone()),
            drafts: args.drafts,
            base_url: args.base_url.clone(),
            contact_url: args.contact_url.clone(),
            cors_origins: args.cors_origins.clone(),
        },
        recorder,
    ));
    tracing::info!("listening on http://{}", listener.local_addr()?);

    // Index in the background: the server answers 503 until the index is ready.
    let (fatal_tx, fatal_rx) = tokio::sync::oneshot::channel::<anyhow::Error>();
    let ready = state.clone();
    let folders = args.folders.clone();
    let indexing = tokio::task::spawn_blocking(move || {
        let result = (|| -> Result<tantivy::IndexWriter> {
            let idx = SearchIndex::open_or_create(&folders.index)?;
            if let Some(why) = &idx.fresh {
                tracing::info!(
                    "building a new index in {} ({why})",
                    folders.index.display()
                );
            }
            let mut w = writer::open_writer(&idx)?;
            let report = writer::sync(&idx, &mut w, &folders.articles)?;
            for p in &report.problems {
                tracing::warn!("{p}");
            }
            tracing::info!("{}", super::index::summary(&report));
            // Load jieba's dictionary and the other tables now, not on the first query.
            kb::analysis::warm_up();
            ready.set_ready(Engine::new(Arc::new(idx), Ranking::from_env()));
            Ok(w)
        })();
        match result {
            // The writer stays open (and the index locked) while the server runs.
            Ok(w) => Some(w),
            Err(e) => {
                let _ = fatal_tx.send(e);
                None
            }
        }
    });

    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<anyhow::Error>();
    let shutdown = async move {
        tokio::select! {
            _ = web::shutdown_signal() => tracing::info!("shutting down"),
            Ok(e) = fatal_rx => { let _ = stop_tx.send(e); }
        }
    };
    axum::serve(
        listener,
        web::app(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    // Commit the events still queued, then release the index (and its lock).
    tokio::task::spawn_blocking(move || metrics_writer.stop()).await?;
    drop(indexing.await);
    match stop_rx.await {
        Ok(e) => Err(e.context("cannot build the index")),
        Err(_) => Ok(()),
    }
}
