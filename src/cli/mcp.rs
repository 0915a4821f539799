//! `kb mcp`: the MCP server over stdio, for AI agents that run kb themselves (Claude
//! Desktop, an IDE). The same tools as `POST /mcp` on `kb serve`; what they search is
//! recorded with `source = ai` where `kb serve` records (`--data`, or `--database`).

use std::sync::Arc;

use anyhow::{Context, Result};
use rmcp::ServiceExt;

use super::McpArgs;
use kb::metrics::Recorder;
use kb::web::{AppState, WebConfig};

pub fn run(args: &McpArgs) -> Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(serve(args.clone()))
}

async fn serve(args: McpArgs) -> Result<()> {
    let folders = args.folders.clone();
    let engine =
        tokio::task::spawn_blocking(move || super::search::open_engine(&folders)).await??;
    let metrics =
        super::database::ServerMetrics::open(&args.metrics.data, args.metrics.database.as_deref())?;
    let (recorder, writer) = Recorder::start(metrics.store, None);
    let mut state = AppState::new(
        WebConfig {
            articles: args.folders.articles.clone(),
            base_url: args.base_url.clone(),
            limits: args.folders.limits.limits(),
            ..WebConfig::default()
        },
        recorder,
    );
    state = state.with_metrics(metrics.reader);
    let state = Arc::new(state);
    state.set_ready(engine);
    tracing::info!("MCP server on stdio: tools search, get_article, answer");
    let served = kb::web::mcp::Kb::new(state)
        .serve(rmcp::transport::stdio())
        .await
        .context("the MCP client did not initialize the session")?;
    let ended = served.waiting().await;
    // Commit the events still queued before exiting.
    tokio::task::spawn_blocking(move || writer.stop()).await?;
    ended.context("the MCP session ended with an error")?;
    Ok(())
}
