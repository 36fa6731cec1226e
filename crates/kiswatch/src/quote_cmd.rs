//! `kiswatch quote CODE...`: current prices through the KIS client.

#[derive(Debug, clap::Args)]
pub struct QuoteArgs {}

pub async fn run(_args: QuoteArgs) -> anyhow::Result<()> {
    anyhow::bail!("the KIS client is not built yet")
}
