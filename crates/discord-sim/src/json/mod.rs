//! Payload builders: every JSON object the sim sends, REST or gateway. They
//! always carry the fields serenity 0.12.5 requires (see DISCORD-FACTS §2);
//! the tests in `json/tests.rs` parse each one with serenity.

pub(crate) mod events;
pub(crate) mod model;
#[cfg(test)]
mod tests;

/// Snowflakes go out as strings, like Discord sends them.
pub(crate) fn sf(id: u64) -> serde_json::Value {
    serde_json::Value::String(id.to_string())
}

/// Optional snowflake or `null`.
pub(crate) fn sf_opt(id: Option<u64>) -> serde_json::Value {
    id.map_or(serde_json::Value::Null, sf)
}
