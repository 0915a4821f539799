//! `kb mcp`: the MCP server over stdio, for AI agents that run kb themselves (Claude
//! Desktop, an IDE). The same tools as `POST /mcp` on `kb serve`; what they search is
//! recorded in the data folder with `source = ai`.

use std::sync::Arc;

use anyhow::{Context, Result};
use rmcp::ServiceExt;

use super::McpArgs;
use kb::metrics::Recorder;
use kb::metrics::sqlite::{SqliteReader, SqliteStore};
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
    let store = SqliteStore::open(&args.data).with_context(|| {
        format!(
            "cannot open the metrics database in {}",
            args.data.display()
        )
    })?;
    let (recorder, writer) = Recorder::start(Box::new(store), None);
    let mut state = AppState::new(
        WebConfig {
            articles: args.folders.articles.clone(),
            base_url: args.base_url.clone(),
            limits: args.folders.limits.limits(),
            ..WebConfig::default()
        },
        recorder,
    );
    if let Some(reader) = SqliteReader::open(&args.data)? {
        state = state.with_metrics(Arc::new(reader));
    }
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
