//! Privacy promises that are true: what the couple is told about who can read
//! what, in a server and in DMs, and the timezone asked at pairing, kept and
//! used.

use crate::support::bot::{TestBot, WAIT, button, wait_until};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_server_the_couple_is_told_that_admins_can_read_and_their_timezone_is_kept() {
    let app = TestBot::start().await;
    let (alex, sam, casey) = (app.user("alex"), app.user("sam"), app.user("casey"));
    // The timezone is asked when the pairing starts (autocompleted), in the
    // reply only Alex sees.
    let choices = alex
        .autocomplete_choices(
            app.general(),
            "couple start",
            json!({"partner": sam.id(), "timezone": "new y"}),
            "timezone",
            WAIT,
        )
        .await
        .unwrap();
    assert!(choices.iter().any(|c| c["value"] == "America/New_York"), "{choices:?}");
    let ix = alex
        .slash(app.general(), "couple start", json!({"partner": sam.id(), "timezone": "America/New_York"}))
        .unwrap();
    alex.wait_for_response(ix, |m| m.content.contains("invitation privately"), WAIT).await.unwrap();
    app.settle().await;
    let invitation = sam.wait_for_dm(|m| m.content.contains("would like to use mend"), WAIT).await.unwrap();
    sam.click(invitation.id, &button(&invitation, "Accept")).unwrap();
    let home =
        wait_until(|| sam.visible_channels().into_iter().find(|c| c.name.starts_with("mend-")).map(|c| c.id)).await;
    app.settle().await;
    let welcome = sam.wait_for_message(home, |m| m.content.contains("Welcome"), WAIT).await.unwrap();
    assert!(welcome.content.contains("owner and admins can read"), "{}", welcome.content);
    assert!(welcome.content.contains("direct messages"), "the way to more privacy is named: {}", welcome.content);
    assert!(welcome.content.contains("America/New_York time"), "{}", welcome.content);
    assert!(casey.messages_in(app.general()).unwrap().is_empty(), "the open channel holds nothing");

    let couple = app.engine.couple_of(&sam.id().to_string()).await.unwrap().unwrap().0;
    assert_eq!(app.engine.couple(couple).await.unwrap().tz, "America/New_York");
    let ix = sam.slash(home, "schedule show", json!({})).unwrap();
    let shown = sam.wait_for_response(ix, |m| m.content.contains("Prompts"), WAIT).await.unwrap();
    assert!(shown.content.contains("America/New_York"), "{}", shown.content);

    let ix = casey.slash(app.general(), "help", json!({})).unwrap();
    let help = casey.wait_for_response(ix, |m| m.content.contains("Who can read what"), WAIT).await.unwrap();
    assert!(help.ephemeral);
    for words in ["owner and admins can read", "Direct messages are only", "holds the key", "Therapists"] {
        assert!(help.content.contains(words), "{words:?} missing from /help: {}", help.content);
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_direct_messages_the_welcome_speaks_of_dms_not_a_channel() {
    let app = TestBot::start_global().await;
    let (alex, sam) = (app.user("alex"), app.user("sam"));
    let ix = alex.slash_in_dm("couple start", json!({"timezone": "asia/tokyo"})).unwrap();
    let reply = alex.wait_for_response(ix, |m| m.content.contains("pairing code"), WAIT).await.unwrap();
    let start = reply.content.find("**").unwrap() + 2;
    let code = &reply.content[start..start + 8];
    let ix = sam.slash_in_dm("couple join", json!({ "code": code })).unwrap();
    let joined = sam.wait_for_response(ix, |m| m.content.contains("Welcome"), WAIT).await.unwrap();
    app.settle().await;
    let welcome = alex.wait_for_dm(|m| m.content.contains("Welcome"), WAIT).await.unwrap();
    for text in [&joined.content, &welcome.content] {
        assert!(!text.contains("channel"), "a DM welcome speaks of DMs: {text}");
        assert!(text.contains("direct messages") && text.contains("Asia/Tokyo time"), "{text}");
    }
    app.stop().await;
}
