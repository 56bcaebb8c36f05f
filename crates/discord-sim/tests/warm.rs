#[test]
fn warm() { let _ = serenity::all::GatewayIntents::GUILDS; let _ = reqwest::Client::new(); }
