//! Phases: moving on is the hurt partner's to decide, confirmed, once however
//! often it is clicked, and told to both; either can slow down.

use crate::support::bot::{TestBot, WAIT, button, find_button};
use discord_sim::{MessageView, SimUser};
use mend::core::model::Phase;
use serde_json::json;

/// Each partner says privately how they come to this, from the welcome.
pub(crate) async fn say_role(user: &SimUser, home: u64, label: &str) {
    let welcome = user.wait_for_message(home, |m| m.content.contains("Welcome"), WAIT).await.unwrap();
    let ask = user.click(welcome.id, &button(&welcome, "Tell mend privately")).unwrap();
    let roles = user.wait_for_response(ask, |m| m.content.contains("How do you come"), WAIT).await.unwrap();
    let ix = user.click(roles.id, &button(&roles, label)).unwrap();
    user.wait_for_ack(ix, WAIT).await.unwrap();
}

async fn phase_menu(user: &SimUser, home: u64) -> MessageView {
    let ix = user.slash(home, "phase", json!({})).unwrap();
    let menu = user.wait_for_response(ix, |m| m.content.contains("You're in"), WAIT).await.unwrap();
    assert!(menu.ephemeral);
    menu
}

async fn phase_of(app: &TestBot, user: &SimUser) -> Phase {
    let couple = app.engine.couple_of(&user.id().to_string()).await.unwrap().unwrap().0;
    app.engine.couple(couple).await.unwrap().phase
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moving_on_is_the_hurt_partners_confirmed_once_and_told_to_both() {
    let app = TestBot::start().await;
    let (alex, sam, casey) = (app.user("alex"), app.user("sam"), app.user("casey"));
    let home = app.pair("alex", "sam").await;
    say_role(&alex, home, "I broke trust").await;
    say_role(&sam, home, "I was hurt").await;
    crate::support::bot::wait_until(|| {
        (futures::executor::block_on(phase_of(&app, &sam)) == Phase::Atone
            && futures::executor::block_on(app.engine.couple_of(&sam.id().to_string()))
                .ok()
                .flatten()
                .and_then(|(c, _)| futures::executor::block_on(app.engine.couple(c)).ok())
                .is_some_and(|c| c.roles()[1] == mend::core::model::Role::Hurt))
        .then_some(())
    })
    .await;

    // Alex, who broke trust, is not offered moving on (the engine refuses it
    // too, whatever a click claims: tests/engine).
    let menu = phase_menu(&alex, home).await;
    assert!(find_button(&menu, "I'm ready to move on").is_none(), "{:?}", menu.components);
    let sams = phase_menu(&sam, home).await;
    let forward = button(&sams, "I'm ready to move on");

    // Sam is asked to confirm first (a double click is the engine test's).
    let asked = sam.click(sams.id, &forward).unwrap();
    let ask = sam.wait_for_response(asked, |m| m.content.contains("Move on to"), WAIT).await.unwrap();
    assert!(ask.ephemeral && phase_of(&app, &sam).await == Phase::Atone, "nothing changes before confirming");
    sam.click(ask.id, &button(&ask, "Yes, move on")).unwrap();
    // The question is updated in place with the outcome.
    let done = sam.wait_for_response(asked, |m| m.content.contains("You're in"), WAIT).await.unwrap();
    assert!(done.content.contains("Attune"), "{}", done.content);
    assert_eq!(phase_of(&app, &sam).await, Phase::Attune, "one phase on, not two");
    app.settle().await;
    let told =
        |u: &SimUser, words: &str| u.messages_in(home).unwrap().iter().filter(|m| m.content.contains(words)).count();
    assert_eq!(told(&alex, "A new phase begins"), 1, "told once, to both");
    let notice = alex.messages_in(home).unwrap().into_iter().find(|m| m.content.contains("A new phase")).unwrap();
    assert!(!notice.content.contains("Sam") && !notice.content.contains("hurt"), "names no one: {}", notice.content);
    assert!(casey.messages_in(home).is_err(), "a third member sees none of it");

    // Either can slow down, confirmed and told.
    let menu = phase_menu(&alex, home).await;
    let asked = alex.click(menu.id, &button(&menu, "Let's slow down")).unwrap();
    let ask = alex.wait_for_response(asked, |m| m.content.contains("Go back to"), WAIT).await.unwrap();
    alex.click(ask.id, &button(&ask, "Yes, slow down")).unwrap();
    alex.wait_for_response(asked, |m| m.content.contains("You're in"), WAIT).await.unwrap();
    assert_eq!(phase_of(&app, &alex).await, Phase::Atone);
    app.settle().await;
    assert_eq!(told(&sam, "Taking it more slowly"), 1);
    app.stop().await;
}
