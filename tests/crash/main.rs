//! Crash safety, end to end (issue 4, point 1): the real `mend run` process,
//! against the project's local Discord, is SIGKILLed at seeded random moments
//! while it fans prompts out and while partners answer, and stopped with
//! SIGTERM in the middle of a fan-out. Whatever the moment, what users see and
//! what the database holds afterwards must show nothing lost and nothing
//! doubled.
//!
//! mend runs on the system clock here. The fan-out test waits for a real minute
//! boundary (prompts fire while mend is up); the others schedule their prompts
//! as if set two minutes ago, so the occurrence is already due, well within the
//! grace window, when mend starts (or, in the test of several processes, when
//! the process working the outbox next looks, within 2 s).

#[path = "../support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::Utc;
use discord_sim::{Fault, MessageView, SimUser};
use mend::core::entities::ResponseStatus;
use mend::core::model::{Kind, ScheduleKind, Slot};
use mend::core::outbox::ItemKind;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use support::world::{
    Couple, Layout, MEND_KEY, Mend, World, between, daily_at, minute_boundary_after, ms, sleep_until, sleep_until_utc,
};

const WAIT: Duration = Duration::from_secs(20);
/// How long an outbox item a killed mend held stays leased to it
/// (`MEND_OUTBOX_LEASE_SECONDS=2` in these tests), with a margin: mend is kept
/// down that long before its last start, so that its first worker step picks up
/// every reveal an earlier run decided and did not finish posting.
const REVEAL_SETTLE: Duration = Duration::from_millis(2_500);
/// Whether a message is a reveal's heading (a shared prompt's, a personal
/// day's, or a small action's).
fn is_reveal_heading(text: &str) -> bool {
    use mend::discord::text;
    let actions =
        [(true, true), (true, false), (false, true), (false, false)].map(|(b, n)| text::action_reveal_heading(b, n));
    text == text::reveal_heading() || text == text::REVEAL_HEADING_PERSONAL || actions.contains(&text)
}
const MEANINGFUL_BUTTON: &str = "If your partner's words touched you";

// ---------------------------------------------------------------------------
// 1. SIGKILL during the fan-out of a prompt that fires while mend is up.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_the_fan_out_neither_loses_nor_doubles_a_prompt() {
    const COUPLES: usize = 300;
    let began = Instant::now();
    let mut rng = StdRng::seed_from_u64(0xC4A5_0001);
    let mut world = World::start(COUPLES, None).await;
    world.create_couples(COUPLES, &mut rng).await;
    // The next minute boundary with time to start (and once kill) mend first.
    let fire = minute_boundary_after(Utc::now(), Duration::from_secs(12));
    world.schedule_all(&world.engine, &daily_at(fire)).await;
    let mut mend = Mend::new(&world);
    let mut kills = Vec::new();

    // A kill during start-up, before anything is due.
    mend.start();
    tokio::time::sleep(between(&mut rng, 50, 900)).await;
    mend.kill();
    kills.push(world.snapshot("kill 1, during start-up").await);
    mend.start();
    mend.wait_connected(WAIT).await;
    let waited_from = Utc::now();

    // The prompt fires for all couples at once; kill a moment into the fan-out.
    sleep_until_utc(fire + chrono::Duration::from_std(between(&mut rng, 300, 2_500)).unwrap()).await;
    mend.kill();
    let late = (Utc::now() - fire).num_milliseconds();
    kills.push(world.snapshot(format!("kill 2, {late} ms after the fire")).await);

    // Restart, and kill again once the resumed fan-out shows progress. Kill 3
    // comes while the test holds the database's write lock, so the prompts in
    // flight are posted and cannot be recorded: exactly the crash the nonce is
    // for (the next run posts them again, and Discord must hand back the same
    // messages).
    for n in 3..=5 {
        tokio::time::sleep(between(&mut rng, 200, 1_500)).await;
        mend.start();
        mend.wait_connected(WAIT).await;
        let before = world.visible_prompts();
        let deadline = Instant::now() + WAIT;
        while world.visible_prompts() == before && world.pending().await > 0 {
            assert!(Instant::now() < deadline, "mend made no progress after restart {n}");
            tokio::time::sleep(ms(20)).await;
        }
        if world.pending().await == 0 {
            break;
        }
        if n == 3 {
            let db = world.db().await;
            let lock = mend::store::begin_write(&db).await.unwrap();
            let deadline = Instant::now() + WAIT;
            while world.snapshot("").await.posted_unrecorded == 0 {
                assert!(Instant::now() < deadline, "no prompt was posted while the database was locked");
                tokio::time::sleep(ms(20)).await;
            }
            tokio::time::sleep(between(&mut rng, 100, 500)).await;
            mend.kill();
            drop(lock);
            let k = world.snapshot("kill 3, posted prompts not yet recorded (database locked)").await;
            assert!(k.posted_unrecorded > 0, "{k:?}");
            kills.push(k);
        } else {
            tokio::time::sleep(between(&mut rng, 0, 1_200)).await;
            mend.kill();
            kills.push(world.snapshot(format!("kill {n}, during the resumed fan-out")).await);
        }
    }

    // The last run finishes the work.
    if mend.kills == mend.starts {
        tokio::time::sleep(between(&mut rng, 200, 1_500)).await;
        mend.start();
    }
    world.wait_all_sent(Duration::from_secs(60)).await;
    tokio::time::sleep(ms(1_000)).await; // a doubled post would show by now
    world.assert_one_prompt_each(fire).await;

    for k in &kills {
        assert_eq!(k.recorded_unseen, 0, "a prompt recorded as sent before it was posted: {k:?}");
    }
    assert!(
        kills.iter().any(|k| k.visible > 0 && k.visible < COUPLES),
        "no kill landed in the middle of the fan-out, so this run proved little: {kills:#?}"
    );
    // The kill while holding the write lock left prompts posted but not
    // recorded (asserted above): the restart found them, either by looking for
    // its earlier post in the channel or, failing that, by Discord answering a
    // re-post with the message it already had (nonce + enforce_nonce). Every
    // 200 beyond one per couple is such a re-post.
    let posts = world.sim.requests_to("POST /channels/*/messages");
    let accepted = posts.iter().filter(|r| r.status == 200).count();
    let limited = posts.iter().filter(|r| r.status == 429).count();
    let looked_back = world.sim.requests_to("GET /channels/*/messages").len();
    assert!(
        accepted > COUPLES || looked_back > 0,
        "no prompt posted before a crash was looked for or re-posted, so the crash window was never tested"
    );
    eprintln!(
        "fan-out: {COUPLES} couples, fired {fire} ({:?} after mend was up), {} starts, {} kills, {} message POSTs \
         ({accepted} answered 200, of which {} returned a prompt already posted; {limited} rate-limited), \
         {:?} in all\n{kills:#?}",
        (fire - waited_from).to_std().unwrap_or_default(),
        mend.starts,
        mend.kills,
        posts.len(),
        accepted - COUPLES,
        began.elapsed(),
    );
    mend.kill();
}

// ---------------------------------------------------------------------------
// 2. A stream of answers while mend is killed and restarted.

/// What a writer saw after one try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    /// "Saved…", "Updated…" or "Noted as done": told that it was kept.
    Acked,
    /// "already been shared": an earlier try was kept and revealed.
    Refused,
    /// Some other reply (an apology): try again.
    Other,
    /// The click on Answer got neither a modal nor a reply (mend was down).
    NoModal,
    /// The submitted answer (or the Done click) got no reply (mend was down
    /// or went down).
    NoReply,
}

#[derive(Debug, Clone)]
struct Attempt {
    text: String,
    click: u64,
    submit: Option<u64>,
    seen: Seen,
}

impl Attempt {
    /// The interaction whose replies tell the writer what happened.
    fn answered_by(&self) -> u64 {
        self.submit.unwrap_or(self.click)
    }
}

#[derive(Clone)]
struct Prompt {
    delivery: i64,
    message: u64,
    kind: Kind,
    /// Each partner has a prompt of their own: read with "Read mine" first.
    personal: bool,
}

fn is_ack(m: &MessageView) -> bool {
    m.ephemeral
        && (m.content.starts_with("Saved") || m.content.starts_with("Updated") || m.content.contains("Noted as done"))
}

fn is_refusal(m: &MessageView) -> bool {
    m.content.contains("already been shared")
}

/// What the replies to interaction `ix` say so far (`None`: nothing yet).
fn replies(user: &SimUser, ix: u64) -> Option<Seen> {
    let shown: Vec<MessageView> = user.interaction(ix).ok()?.messages().into_iter().filter(|m| !m.loading).collect();
    if shown.iter().any(is_ack) {
        Some(Seen::Acked)
    } else if shown.iter().any(is_refusal) {
        Some(Seen::Refused)
    } else if !shown.is_empty() {
        Some(Seen::Other)
    } else {
        None
    }
}

async fn wait_replies(user: &SimUser, ix: u64, timeout: Duration, none: Seen) -> Seen {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(seen) = replies(user, ix) {
            return seen;
        }
        if Instant::now() > deadline {
            return none;
        }
        tokio::time::sleep(ms(40)).await;
    }
}

/// The message holding the answer buttons for `user`: the prompt itself, or
/// on a personal day the private view "Read mine" opens (`None`: no reply,
/// mend was down).
async fn answer_buttons(user: &SimUser, prompt: &Prompt) -> Option<u64> {
    if !prompt.personal {
        return Some(prompt.message);
    }
    let ix = user.click(prompt.message, &format!("mend:mine:{}", prompt.delivery)).expect("Read mine is there");
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        let shown = user.interaction(ix).ok()?.messages();
        if let Some(m) = shown.iter().find(|m| !m.components.is_empty()) {
            return Some(m.id);
        }
        tokio::time::sleep(ms(40)).await;
    }
    None
}

/// One try at answering: click Answer (or Done, for a small action: the text
/// is its note) and write in the modal, then wait a while for mend's reply.
async fn try_answer(user: &SimUser, prompt: &Prompt, text: &str) -> Attempt {
    let button = match prompt.kind {
        Kind::Action => format!("mend:done:{}", prompt.delivery),
        Kind::Shared | Kind::Journal => format!("mend:answer:{}", prompt.delivery),
    };
    let Some(message) = answer_buttons(user, prompt).await else {
        return Attempt { text: text.to_string(), click: 0, submit: None, seen: Seen::NoModal };
    };
    let click = user.click(message, &button).expect("the prompt's button is there");
    let mut attempt = Attempt { text: text.to_string(), click, submit: None, seen: Seen::NoModal };
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let view = user.interaction(click).unwrap();
        if view.modal.is_some() {
            break;
        }
        if let Some(seen) = replies(user, click) {
            attempt.seen = seen;
            return attempt;
        }
        if Instant::now() > deadline {
            return attempt;
        }
        tokio::time::sleep(ms(40)).await;
    }
    match user.submit_modal(click, &[("answer", text)], Duration::from_secs(3)).await {
        Ok(submit) => {
            attempt.submit = Some(submit);
            attempt.seen = wait_replies(user, submit, Duration::from_secs(8), Seen::NoReply).await;
        }
        Err(_) => attempt.seen = Seen::NoModal,
    }
    attempt
}

const PHRASES: [&str; 6] = [
    "we walked by the river and talked",
    "I felt heard when you asked about my day",
    "I want to keep showing up, even when it is hard",
    "the small things mattered most this week",
    "I noticed you tried, and it helped",
    "I am still learning how to say this well",
];

/// A partner who keeps trying until told the answer was kept (or that it was
/// already shared), as a person would when mend does not reply.
async fn writer(
    user: SimUser,
    prompt: Prompt,
    tag: String,
    start: Instant,
    deadline: Instant,
    seed: u64,
) -> Vec<Attempt> {
    let mut rng = StdRng::seed_from_u64(seed);
    sleep_until(start).await;
    let mut attempts = Vec::new();
    while Instant::now() < deadline {
        let text = format!("{tag} try {}: {}", attempts.len(), PHRASES[rng.random_range(0..PHRASES.len())]);
        let attempt = try_answer(&user, &prompt, &text).await;
        let done = matches!(attempt.seen, Seen::Acked | Seen::Refused);
        attempts.push(attempt);
        if done {
            break;
        }
        tokio::time::sleep(between(&mut rng, 200, 800)).await;
    }
    attempts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_acknowledged_while_mend_is_killed_are_kept_and_revealed_once() {
    const COUPLES: usize = 40;
    const KILLS: usize = 4;
    let began = Instant::now();
    let mut rng = StdRng::seed_from_u64(0xC4A5_0002);
    let mut world = World::start(COUPLES, None).await;
    world.create_couples(COUPLES, &mut rng).await;
    world.schedule_in_the_past().await;
    let mut mend = Mend::new(&world);
    mend.start();
    world.wait_all_sent(Duration::from_secs(60)).await;
    let mut prompts = Vec::new();
    for c in &world.couples {
        let d = world.deliveries(c).await.remove(0);
        let kind = d.chosen.as_ref().expect("a sent prompt has its choice").kind;
        let message = &world.prompts_in(c)[0];
        prompts.push(Prompt { delivery: d.id, message: message.id, kind, personal: personal(message) });
    }

    // Both partners of every couple answer, starting at seeded moments.
    let t0 = Instant::now();
    let deadline = t0 + Duration::from_secs(60);
    let mut writers = Vec::new();
    for (c, prompt) in world.couples.iter().zip(&prompts) {
        for slot in 0..2 {
            let start = t0 + between(&mut rng, 0, 12_000);
            let tag = format!("{} (couple {})", c.names[slot], c.index);
            let task = writer(c.users[slot].clone(), prompt.clone(), tag, start, deadline, rng.random());
            writers.push(((c.index, slot), tokio::spawn(task)));
        }
    }

    // Meanwhile, kill mend at seeded moments; restart it after a short while,
    // and after the last kill only once every reveal an earlier run decided is
    // old enough for the scheduler to take over.
    let mut at = t0 + between(&mut rng, 1_000, 2_500);
    let mut downtimes = Vec::new();
    for k in 0..KILLS {
        sleep_until(at).await;
        mend.kill();
        let down = if k + 1 == KILLS { REVEAL_SETTLE } else { between(&mut rng, 300, 2_500) };
        downtimes.push(down);
        tokio::time::sleep(down).await;
        mend.start();
        at = Instant::now() + between(&mut rng, 1_500, 4_000);
    }
    mend.wait_connected(WAIT).await;
    let mut logs = BTreeMap::new();
    for (who, task) in writers {
        logs.insert(who, task.await.expect("a writer panicked"));
    }
    let settle = Instant::now() + Duration::from_secs(30);
    while world.engine.waiting(ItemKind::Reveal).await.unwrap() > 0 {
        assert!(Instant::now() < settle, "reveals still unposted 30 s after the last start");
        tokio::time::sleep(ms(100)).await;
    }
    tokio::time::sleep(ms(1_000)).await;

    // Every writer ended told that their answer was kept (or that it had been
    // shared already), and what they were told holds in the database.
    let mut tally: BTreeMap<&str, usize> = BTreeMap::new();
    let mut kept_unacknowledged = 0;
    for c in &world.couples {
        let prompt = &prompts[c.index];
        let responses = world.engine.responses(prompt.delivery).await.unwrap();
        for slot in Slot::BOTH {
            let attempts = &logs[&(c.index, slot.index())];
            let user = &c.users[slot.index()];
            let last = attempts.last().expect("the writer tried");
            assert!(
                matches!(last.seen, Seen::Acked | Seen::Refused),
                "{} never got an answer saved: {attempts:#?}",
                c.names[slot.index()]
            );
            for a in attempts {
                *tally
                    .entry(match a.seen {
                        Seen::Acked => "acknowledged",
                        Seen::Refused => "refused: already shared",
                        Seen::Other => "other reply",
                        Seen::NoModal => "Answer clicked, no modal (mend down)",
                        Seen::NoReply => "submitted, no reply (mend down)",
                    })
                    .or_default() += 1;
            }
            // Acknowledgements are read again now: one may have come late.
            let acked: Vec<usize> = attempts
                .iter()
                .enumerate()
                .filter(|(_, a)| replies(user, a.answered_by()) == Some(Seen::Acked))
                .map(|(i, _)| i)
                .collect();
            let kept = responses.iter().find(|r| r.slot == slot);
            let who = format!("{} (couple {}, {:?})", c.names[slot.index()], c.index, prompt.kind);
            let kept =
                kept.unwrap_or_else(|| panic!("{who}: was told it was saved, but nothing is stored: {attempts:#?}"));
            assert_eq!(kept.status, ResponseStatus::Answered, "{who}");
            // A small action's note is kept like an answer, with "done".
            assert_eq!(kept.done, (prompt.kind == Kind::Action).then_some(true), "{who}");
            let unacknowledged = {
                {
                    let body = kept.body.as_deref().unwrap_or_default();
                    let i = attempts.iter().position(|a| a.text == body);
                    let i = i.unwrap_or_else(|| panic!("{who}: stored {body:?}, never written: {attempts:#?}"));
                    if let Some(&newest) = acked.last() {
                        assert!(
                            i >= newest,
                            "{who}: the acknowledged answer {:?} was lost; the store holds the older {body:?}",
                            attempts[newest].text
                        );
                    }
                    !acked.contains(&i)
                }
            };
            kept_unacknowledged += unacknowledged as usize;
        }
    }

    // Both answered: exactly one reveal, in a thread under the prompt, each
    // answer in it once; a journal prompt is never revealed.
    let mut reveals = 0;
    for c in &world.couples {
        let prompt = &prompts[c.index];
        let delivery = world.engine.delivery(prompt.delivery).await.unwrap().unwrap();
        let posted = world.sim.message(prompt.message).unwrap();
        let in_channel = world.bot_messages(&c.users[0], c.channel());
        assert!(
            !in_channel.iter().any(|m| is_reveal_heading(&m.content)),
            "couple {}: a reveal outside its thread",
            c.index
        );
        for name in &c.names {
            let announced = in_channel.iter().filter(|m| m.content == format!("{name} has answered.")).count();
            let expected = if prompt.kind == Kind::Journal { 0..=0 } else { 0..=1 };
            assert!(expected.contains(&announced), "couple {}: {name} announced {announced} times", c.index);
        }
        if prompt.kind == Kind::Journal {
            assert!(
                delivery.revealed_at.is_none() && posted.thread_id.is_none(),
                "couple {}: a journal revealed",
                c.index
            );
            continue;
        }
        reveals += 1;
        assert!(delivery.revealed_at.is_some(), "couple {}: both answered, not revealed", c.index);
        assert_eq!(posted.thread_id, Some(prompt.message), "couple {}: the reveal thread is under the prompt", c.index);
        let thread = world.bot_messages(&c.users[0], prompt.message);
        let texts: Vec<&str> = thread.iter().map(|m| m.content.as_str()).collect();
        let headings = texts.iter().filter(|t| is_reveal_heading(t)).count();
        assert_eq!(headings, 1, "couple {}: the reveal's heading, once: {texts:#?}", c.index);
        let responses = world.engine.responses(prompt.delivery).await.unwrap();
        for slot in Slot::BOTH {
            let name = &c.names[slot.index()];
            let parts: Vec<&&str> = texts.iter().filter(|t| t.starts_with(&format!("**{name}**"))).collect();
            assert_eq!(parts.len(), 1, "couple {}: {name}'s answer revealed once: {texts:#?}", c.index);
            let r = responses.iter().find(|r| r.slot == slot).unwrap();
            if let Some(body) = &r.body {
                assert!(
                    parts[0].contains(body.as_str()),
                    "couple {}: revealed {:?}, stored {body:?}",
                    c.index,
                    parts[0]
                );
            }
        }
        let buttons = texts.iter().filter(|t| t.starts_with(MEANINGFUL_BUTTON)).count();
        assert_eq!(buttons, 1, "couple {}: the reveal's closing message, once: {texts:#?}", c.index);
    }

    let submitted_unanswered = tally.get("submitted, no reply (mend down)").copied().unwrap_or(0);
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for p in &prompts {
        *kinds.entry(p.kind.to_string()).or_default() += 1;
    }
    eprintln!(
        "answers: {COUPLES} couples (prompts {kinds:?}; {reveals} reveals), {} starts, {} kills (downtimes {downtimes:?}), \
         attempts {tally:?}, {kept_unacknowledged} answers kept without the writer being told, \
         {submitted_unanswered} submitted with no reply, {:?} in all",
        mend.starts,
        mend.kills,
        began.elapsed(),
    );
    for p in mend.problems().iter().filter(|p| p.contains("ERROR") || p.contains("panicked")) {
        eprintln!("{p}");
    }
    mend.kill();
}

// ---------------------------------------------------------------------------
// 3. SIGTERM during a fan-out: mend stops on its own, soon, and cleanly.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_fan_out_stops_in_bounded_time_and_a_restart_finishes() {
    const COUPLES: usize = 300;
    let began = Instant::now();
    let mut rng = StdRng::seed_from_u64(0xC4A5_0003);
    // 20 requests a second: the fan-out (15 s) outlasts mend's 10 s drain bound,
    // so the restart has something left to finish.
    let mut world = World::start(COUPLES, Some(20)).await;
    world.create_couples(COUPLES, &mut rng).await;
    let fire = world.schedule_in_the_past().await;
    let mut mend = Mend::new(&world);
    mend.start();
    let threshold = rng.random_range(15..60);
    let deadline = Instant::now() + Duration::from_secs(40);
    while world.visible_prompts() < threshold {
        assert!(Instant::now() < deadline, "the fan-out did not start");
        tokio::time::sleep(ms(20)).await;
    }
    let at_term = world.snapshot("at SIGTERM").await;
    let (took, status) = mend.terminate(Duration::from_secs(30)).await;
    let at_exit = world.snapshot("at exit").await;
    let log = mend.log_text();
    let status = status.unwrap_or_else(|| panic!("mend still running 30 s after SIGTERM:\n{log}"));
    assert!(took < Duration::from_secs(15), "mend took {took:?} to stop after SIGTERM");
    assert!(status.success(), "mend exited with {status} after SIGTERM");
    assert!(log.contains("stopping: finishing work in flight"), "SIGTERM was not handled as a stop:\n{log}");
    assert_eq!(at_exit.recorded_unseen, 0, "{at_exit:?}");

    mend.start();
    world.wait_all_sent(Duration::from_secs(60)).await;
    tokio::time::sleep(ms(1_000)).await;
    world.assert_one_prompt_each(fire).await;
    eprintln!(
        "sigterm: {COUPLES} couples at 20 requests/s, SIGTERM after {} prompts were visible, exit {status} after \
         {took:?}, {at_term:?}, {at_exit:?}, {:?} in all",
        at_term.visible,
        began.elapsed()
    );
    mend.kill();
}

/// Whether a prompt in the channel is a personal day's ("Read mine").
fn personal(message: &MessageView) -> bool {
    serde_json::to_string(&message.components).unwrap().contains("mend:mine:")
}

/// The first couple whose prompt is of a kind that is revealed (not a journal).
async fn first_revealed_kind(world: &World) -> (&Couple, Prompt) {
    for c in &world.couples {
        let d = world.deliveries(c).await.remove(0);
        let kind = d.chosen.as_ref().expect("a sent prompt has its choice").kind;
        if kind != Kind::Journal {
            let message = &world.prompts_in(c)[0];
            return (c, Prompt { delivery: d.id, message: message.id, kind, personal: personal(message) });
        }
    }
    panic!("no couple got a prompt that is revealed");
}

fn assert_nothing_doubled_in_thread(world: &World, c: &Couple, prompt: &Prompt) {
    let thread = world.bot_messages(&c.users[0], prompt.message);
    let texts: Vec<&str> = thread.iter().map(|m| m.content.as_str()).collect();
    let mut seen = std::collections::BTreeSet::new();
    let doubled: Vec<&&str> = texts.iter().filter(|t| !seen.insert(**t)).collect();
    assert!(doubled.is_empty(), "messages doubled in the reveal thread: {doubled:#?}\nthread: {texts:#?}");
}

/// While `mend run` serves the world's database, `mend rekey` and `mend
/// restore` refuse to touch it, and say why.
fn refused_while_mend_runs(world: &World) {
    let dir = world.fixture.dir.path();
    let new_key = dir.join("next.key");
    mend::crypto::Key::write_new(&new_key).unwrap();
    let backup = dir.join("some-backup.db");
    std::fs::write(&backup, b"").unwrap();
    for args in [vec!["rekey", new_key.to_str().unwrap()], vec!["restore", backup.to_str().unwrap()]] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_mend"))
            .args(&args)
            .env("DATABASE_URL", &world.url)
            .env("MEND_KEYSTORE", world.fixture.keystore_url())
            .env("MEND_KEY", MEND_KEY)
            .env_remove("MEND_KEY_FILE")
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {said}");
        assert!(said.contains("mend is running with this database") && said.contains("stop it first"), "{said}");
    }
}

// ---------------------------------------------------------------------------
// 4. A targeted crash: after a reveal is posted in full, before it is recorded.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_just_after_a_reveal_is_posted_does_not_double_it() {
    let mut rng = StdRng::seed_from_u64(0xC4A5_0004);
    let mut world = World::start(8, None).await;
    world.create_couples(8, &mut rng).await;
    world.schedule_in_the_past().await;
    let mut mend = Mend::new(&world);
    mend.start();
    world.wait_all_sent(WAIT).await;
    refused_while_mend_runs(&world);
    let (c, prompt) = first_revealed_kind(&world).await;
    let first = try_answer(&c.users[0], &prompt, "first, and kept").await;
    assert_eq!(first.seen, Seen::Acked);

    // The second answer completes the pair; its reveal is slowed at the thread
    // (one 429 of 3 s), which leaves time to hold the database's write lock
    // before mend records the reveal as posted.
    world.sim.inject_fault(Fault::rate_limit("POST /channels/*/messages/*/threads", 1, 3.0));
    let user = c.users[1].clone();
    let second = tokio::spawn({
        let prompt = prompt.clone();
        async move { try_answer(&user, &prompt, "second, completing the pair").await }
    });
    let announced = format!("{} has answered.", c.names[1]);
    c.users[0].wait_for_message(c.channel(), |m| m.content == announced, WAIT).await.unwrap();
    // The reveal is under way once its thread is asked for (and answered 429):
    // hold the lock while serenity waits that out.
    let asked = Instant::now() + WAIT;
    while world.sim.requests_to("POST /channels/*/messages/*/threads").is_empty() {
        assert!(Instant::now() < asked, "the reveal never asked for its thread");
        tokio::time::sleep(ms(10)).await;
    }
    let db = world.db().await;
    let lock = mend::store::begin_write(&db).await.unwrap();
    // The reveal's thread is opened; recording it waits on the lock.
    let opened = Instant::now() + WAIT;
    while !c.users[0].messages_in(c.channel()).unwrap().iter().any(|m| m.id == prompt.message && m.thread_id.is_some())
    {
        assert!(Instant::now() < opened, "the reveal's thread was never opened");
        tokio::time::sleep(ms(20)).await;
    }
    tokio::time::sleep(ms(200)).await;
    mend.kill();
    drop(lock);
    let _ = second.await;

    // The next run posts the reveal it finds unrecorded.
    tokio::time::sleep(REVEAL_SETTLE).await;
    mend.start();
    let settle = Instant::now() + WAIT;
    while world.engine.waiting(ItemKind::Reveal).await.unwrap() > 0 {
        assert!(Instant::now() < settle, "the reveal was never recorded as posted");
        tokio::time::sleep(ms(100)).await;
    }
    tokio::time::sleep(ms(500)).await;
    assert_nothing_doubled_in_thread(&world, c, &prompt);
    mend.kill();
}

// ---------------------------------------------------------------------------
// 5. No crash at all: a reveal whose posting is slow is posted by the scheduler
//    too.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reveal_slow_to_post_is_not_posted_twice() {
    let mut rng = StdRng::seed_from_u64(0xC4A5_0005);
    let mut world = World::start(8, None).await;
    world.create_couples(8, &mut rng).await;
    world.schedule_in_the_past().await;
    let mut mend = Mend::new(&world);
    mend.start();
    world.wait_all_sent(WAIT).await;
    let (c, prompt) = first_revealed_kind(&world).await;
    assert_eq!(try_answer(&c.users[0], &prompt, "first").await.seen, Seen::Acked);

    // Discord makes the reveal's thread wait 12 s (one 429); meanwhile the
    // scheduler wakes (a schedule change) once the reveal is 10 s old.
    world.sim.inject_fault(Fault::rate_limit("POST /channels/*/messages/*/threads", 1, 12.0));
    let user = c.users[1].clone();
    let second = tokio::spawn({
        let prompt = prompt.clone();
        async move { try_answer(&user, &prompt, "second").await }
    });
    let announced = format!("{} has answered.", c.names[1]);
    c.users[0].wait_for_message(c.channel(), |m| m.content == announced, WAIT).await.unwrap();
    tokio::time::sleep(REVEAL_SETTLE).await;
    assert!(
        world.engine.waiting(ItemKind::Reveal).await.unwrap() > 0,
        "the slow reveal is still being posted when the scheduler wakes"
    );
    let ix = c.users[0]
        .slash(c.channel(), "schedule set", serde_json::json!({"when": "daily 20:00", "timezone": "UTC"}))
        .unwrap();
    c.users[0].wait_for_response(ix, |m| m.content.contains("20:00"), WAIT).await.unwrap();
    let second = second.await.unwrap();
    // The writer is told first; the reveal follows.
    assert_eq!(second.seen, Seen::Acked, "{second:?}");
    let settle = Instant::now() + WAIT;
    while world.engine.waiting(ItemKind::Reveal).await.unwrap() > 0 {
        assert!(Instant::now() < settle, "the reveal was never recorded as posted");
        tokio::time::sleep(ms(100)).await;
    }
    c.users[1].wait_for_response(second.submit.unwrap_or(second.click), is_ack, WAIT).await.unwrap();
    tokio::time::sleep(ms(500)).await;
    assert_nothing_doubled_in_thread(&world, c, &prompt);
    mend.kill();
}

// ---------------------------------------------------------------------------
// 6. SIGKILL during the fan-out of a weekly reflection to couples in DMs.

/// The reflections (embeds titled for the week) mend sent `user` in DMs.
fn reflections_of(user: &SimUser) -> usize {
    user.dms().iter().filter(|m| m.embeds.iter().any(|e| e["title"] == "Your week together")).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_a_reflection_fan_out_sends_each_partner_each_reflection_once() {
    const COUPLES: usize = 80;
    let mut rng = StdRng::seed_from_u64(0xC4A5_0006);
    let mut world = World::start(COUPLES, None).await;
    world.create_couples(COUPLES, &mut rng).await;
    // In DMs, so each partner gets a copy of their own: two parts per reflection.
    // Mend has written to them before (the week's prompt came by DM), so it
    // knows their DM channels.
    for c in &world.couples {
        let home = mend::core::entities::Home { couple_id: c.id, guild_id: None, channel_id: None };
        world.engine.set_home(&home).await.unwrap();
        for u in &c.users {
            world.engine.remember_dm_channel(u.id(), u.dm_channel().unwrap()).await.unwrap();
        }
    }
    // The week had a prompt that reached them (posted into memory by a seeding
    // worker on a clock of its own). Its reflection's slot was a day ago: each
    // partner was asked then to check in, no one did, and the check-in window
    // closes at `fire`, when every couple's reflection comes at once.
    let fire = minute_boundary_after(Utc::now(), Duration::from_secs(12));
    let slot = fire - chrono::Duration::days(1);
    let earlier = slot - chrono::Duration::hours(1);
    let clock = std::sync::Arc::new(mend::clock::ManualClock::new(earlier - chrono::Duration::minutes(1)));
    let seeder = world.engine_at(clock.clone()).await;
    for c in &world.couples {
        seeder.set_schedule(c.id, ScheduleKind::Prompt, &daily_at(earlier), Some("UTC")).await.unwrap();
    }
    clock.set(earlier);
    let lifecycle = std::sync::Arc::new(mend::worker::Lifecycle::default());
    let memory = mend::worker::Worker::new(seeder.clone(), mend::worker::MemoryTransport::default(), lifecycle);
    memory.step().await.unwrap();
    for c in &world.couples {
        seeder.set_schedule(c.id, ScheduleKind::Reflection, &daily_at(slot), None).await.unwrap();
    }
    clock.set(slot);
    memory.step().await.unwrap();
    let asked = memory
        .transport()
        .drain()
        .iter()
        .filter(|p| matches!(p.notice(), Some(mend::core::outbox::Notice::CheckIn { .. })))
        .count();
    assert_eq!(asked, 2 * COUPLES, "each partner was asked to check in");
    // Nothing else comes while mend runs: the next prompt and reflection are a day off.
    for c in &world.couples {
        for kind in [ScheduleKind::Prompt, ScheduleKind::Reflection] {
            world.engine.set_schedule(c.id, kind, &daily_at(earlier), None).await.unwrap();
        }
    }
    let users: Vec<SimUser> = world.couples.iter().flat_map(|c| c.users.clone()).collect();
    let got = |users: &[SimUser]| users.iter().filter(|u| reflections_of(u) > 0).count();

    let mut mend = Mend::new(&world);
    mend.start();
    mend.wait_connected(WAIT).await;
    let mut mid = Vec::new();
    sleep_until_utc(fire).await;
    for _ in 0..3 {
        // Kill once some partners have theirs and others not yet.
        let deadline = Instant::now() + WAIT;
        while got(&users) == 0 && Instant::now() < deadline {
            tokio::time::sleep(ms(10)).await;
        }
        tokio::time::sleep(between(&mut rng, 0, 400)).await;
        mend.kill();
        let seen = got(&users);
        mid.push(seen);
        if seen == users.len() {
            break;
        }
        tokio::time::sleep(between(&mut rng, 100, 800)).await;
        mend.start();
        mend.wait_connected(WAIT).await;
    }
    if mend.kills == mend.starts {
        mend.start();
    }
    let settle = Instant::now() + Duration::from_secs(60);
    while world.engine.waiting(ItemKind::Reflection).await.unwrap() > 0 || got(&users) < users.len() {
        if Instant::now() > settle {
            let log = mend.log_text();
            let tail: String =
                log.lines().rev().take(40).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n");
            let rows = world.engine.outbox_of(world.couples[0].id).await.unwrap();
            panic!("reflections still unsent: {} of {} partners have one\n{rows:#?}\n{tail}", got(&users), users.len());
        }
        tokio::time::sleep(ms(100)).await;
    }
    tokio::time::sleep(ms(1_000)).await; // a doubled post would show by now
    let counts: BTreeMap<usize, usize> = users.iter().fold(BTreeMap::new(), |mut m, u| {
        *m.entry(reflections_of(u)).or_default() += 1;
        m
    });
    assert_eq!(counts, BTreeMap::from([(1, users.len())]), "each partner got the reflection exactly once");
    assert!(
        mid.iter().any(|n| *n > 0 && *n < users.len()),
        "no kill landed in the middle of the reflection fan-out: {mid:?}"
    );
    eprintln!("reflection fan-out: {} partners, partners reached at each kill: {mid:?}", users.len());
    mend.kill();
    world.sim.shutdown();
}

// ---------------------------------------------------------------------------
// Several processes on one database: one works the outbox at a time.

const LEADS: &str = "this process works the outbox";

/// Which of `mends` say they work the outbox now (in their current run's log).
fn leading(mends: &[Mend]) -> Vec<usize> {
    (0..mends.len()).filter(|&i| mends[i].running() && mends[i].log_text().contains(LEADS)).collect()
}

/// Waits until one of `mends` says it works the outbox, and long enough
/// after for every other to have asked too; returns the one, the only one.
async fn the_lead(mends: &[Mend]) -> usize {
    let deadline = Instant::now() + WAIT;
    while leading(mends).is_empty() {
        assert!(Instant::now() < deadline, "no process took the outbox's lead");
        tokio::time::sleep(ms(50)).await;
    }
    if mends.len() > 1 {
        tokio::time::sleep(ms(2_500)).await; // every process has asked at least once
    }
    let lead = leading(mends);
    assert_eq!(lead.len(), 1, "one process works the outbox, not {lead:?}");
    lead[0]
}

/// The world of the several-process test: 30 servers, so that each of three
/// shards has ten (the sim's servers are made a millisecond apart, and Discord
/// routes a server to shard `(id >> 22) % 3`), and one couple in seven in DMs.
const SPREAD: Layout = Layout { servers: 30, dm_every: 7 };
const SPREAD_COUPLES: usize = 150;

/// What a fan-out asked of Discord on the channel-messages routes: the posts,
/// and the lookups a post taken over from a killed run begins with.
#[derive(Debug, Clone, Copy)]
struct Posts {
    /// Message POSTs, and how many of them drew a 429.
    sent: usize,
    limited: usize,
    /// Message POSTs Discord accepted (a repeated nonce's included).
    accepted: usize,
    /// 429s on those routes, posts and lookups (GETs) together.
    limited_all: usize,
}

fn message_posts(world: &World) -> Posts {
    let posts = world.sim.requests_to("POST /channels/*/messages");
    let lookups = world.sim.requests_to("GET /channels/*/messages");
    let limited = |rs: &[discord_sim::RequestRecord]| rs.iter().filter(|r| r.status == 429).count();
    Posts {
        sent: posts.len(),
        limited: limited(&posts),
        accepted: posts.iter().filter(|r| (200..300).contains(&r.status)).count(),
        limited_all: limited(&posts) + limited(&lookups),
    }
}

/// Every copy of the prompt reached Discord in one accepted POST: none went
/// twice, not even one whose nonce Discord folded into the first (a killed
/// run's posts are looked up before they are made again).
fn each_posted_once(world: &World, posts: &Posts, what: &str) {
    let copies: usize = world.couples.iter().map(|c| if c.in_dms() { 2 } else { 1 }).sum();
    assert_eq!(posts.accepted, copies, "{what}: message POSTs accepted, one per copy of the prompt ({posts:?})");
}

/// Waits until `n` couples see their prompt.
async fn wait_visible(world: &World, n: usize) {
    let deadline = Instant::now() + WAIT;
    while world.visible_prompts() < n {
        assert!(Instant::now() < deadline, "the fan-out stalled: {:?}", world.snapshot("stalled").await);
        tokio::time::sleep(ms(10)).await;
    }
}

/// The baseline: one `mend run` holding every shard, in a world laid out
/// the same, at the same global limit (Discord's, 50 requests a second), with
/// the same fan-out, SIGKILLed at the same point of it (once `kill_at` couples
/// see their prompt) and started again. What the crash itself costs is in the
/// baseline too (the next run knows nothing of the limit, and first looks for
/// each post it takes over); what is left is what three processes cost over one.
async fn one_process(kill_at: usize, rng: &mut StdRng) -> Posts {
    let mut world = World::start_laid_out(SPREAD_COUPLES, None, SPREAD).await;
    world.create_couples(SPREAD_COUPLES, rng).await;
    let mut mend = Mend::new(&world);
    mend.start();
    mend.wait_connected(WAIT).await;
    the_lead(std::slice::from_ref(&mend)).await;
    let fire = world.schedule_in_the_past().await;
    wait_visible(&world, kill_at).await;
    mend.kill();
    mend.start();
    world.wait_all_sent(Duration::from_secs(60)).await;
    tokio::time::sleep(ms(1_000)).await; // a doubled post would show by now
    world.assert_one_prompt_each(fire).await;
    let posts = message_posts(&world);
    each_posted_once(&world, &posts, "one process");
    mend.kill();
    world.sim.shutdown();
    posts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_one_lead_killed_mid_fan_out_another_takes_over_and_nothing_is_lost_or_doubled() {
    const COUPLES: usize = SPREAD_COUPLES;
    let began = Instant::now();
    let mut rng = StdRng::seed_from_u64(0xC4A5_0003);
    let kill_at = rng.random_range(COUPLES / 5..=COUPLES / 2);
    // The same couples, with the same roles, in both worlds.
    let alone = one_process(kill_at, &mut rng.clone()).await;

    let mut world = World::start_laid_out(COUPLES, None, SPREAD).await;
    world.create_couples(COUPLES, &mut rng).await;
    let dm_couples = world.couples.iter().filter(|c| c.in_dms()).count();
    assert!(dm_couples >= 20, "couples in DMs too: {dm_couples}");
    let mut mends: Vec<Mend> =
        (0..3).map(|i| Mend::another(&world, &format!("p{i}"), &[("MEND_SHARDS", &format!("{i}/3"))])).collect();
    for m in &mut mends {
        m.start();
    }
    for m in &mut mends {
        m.wait_connected(WAIT).await;
    }
    each_serves_its_shards_servers(&world, &mends).await;
    let lead = the_lead(&mends).await;

    // The prompt falls due while all three run: the lead fans it out, and is
    // killed once `kill_at` couples see theirs.
    let fire = world.schedule_in_the_past().await;
    wait_visible(&world, kill_at).await;
    mends[lead].kill();
    let killed = Instant::now();
    let at_kill = world.snapshot("the lead killed").await;

    // Another takes over: prompts flow again within 10 s, posted by one process.
    let mut resumed = None;
    while killed.elapsed() < Duration::from_secs(10) {
        let now_leading = leading(&mends);
        if now_leading.len() == 1 && world.visible_prompts() > at_kill.visible {
            resumed = Some((now_leading[0], killed.elapsed()));
            break;
        }
        assert!(now_leading.len() <= 1, "two processes work the outbox at once: {now_leading:?}");
        tokio::time::sleep(ms(50)).await;
    }
    let (next, took) = resumed.unwrap_or_else(|| panic!("no process took over within 10 s: {at_kill:?}"));
    assert_ne!(next, lead);
    world.wait_all_sent(Duration::from_secs(60)).await;
    tokio::time::sleep(ms(1_000)).await; // a doubled post would show by now
    // Every couple has its prompt once: in the killed process's ten servers
    // too (the REST API serves whichever process posts), and in DMs.
    world.assert_one_prompt_each(fire).await;
    assert_eq!(leading(&mends), vec![next], "still one lead");
    assert!(at_kill.visible < COUPLES, "the kill came after the fan-out: it proved no take-over");

    let three = message_posts(&world);
    each_posted_once(&world, &three, "three processes");
    // No more 429s than one process draws. Posting at the global limit, a
    // process draws a 429 for each request it has in flight when a second's
    // allowance runs out: at most `FAN_OUT` in each such second. They are
    // counted on posts and lookups together: a run taking over looks each post
    // up first, and the lookups draw many of the 429s the posts would. Where
    // the take-over falls against those seconds may cost one second's worth
    // more than the baseline's restart does; several processes posting at once
    // would each draw their own (with every process working the outbox, this
    // run drew over one and a half times the baseline's).
    let bound = alone.limited_all + mend::worker::FAN_OUT;
    eprintln!(
        "three processes: {COUPLES} couples ({dm_couples} in DMs) over {} servers, lead p{lead} killed with {} of them \
         posted, p{next} posting again {took:?} later; {} message POSTs, {} of them and {} in all (with lookups) \
         rate-limited; one process killed at the same point: {} POSTs, {} and {} rate-limited; bound {bound}; {:?} \
         in all",
        SPREAD.servers,
        at_kill.visible,
        three.sent,
        three.limited,
        three.limited_all,
        alone.sent,
        alone.limited,
        alone.limited_all,
        began.elapsed()
    );
    assert!(
        three.limited_all <= bound,
        "three processes drew {} 429s on posts and lookups, one process {}: {three:?}, {alone:?}",
        three.limited_all,
        alone.limited_all
    );
    for m in &mut mends {
        if m.running() {
            m.kill();
        }
    }
    world.sim.shutdown();
}

/// Each of `mends` (holding shard `i` of 3) serves the ten servers of its
/// shard: Discord sent each server's GUILD_CREATE to that shard's session
/// only, and each process counts ten servers on its shard.
async fn each_serves_its_shards_servers(world: &World, mends: &[Mend]) {
    let total = mends.len() as u64;
    let guilds = world.sim.world().guilds;
    assert_eq!(guilds.len(), SPREAD.servers);
    // Which sessions each server was sent to, once every server was sent.
    let deadline = Instant::now() + WAIT;
    let sent_to = loop {
        let mut sent_to: BTreeMap<u64, std::collections::BTreeSet<[u64; 2]>> = BTreeMap::new();
        for d in world.sim.dispatched().into_iter().filter(|d| d.t == "GUILD_CREATE") {
            let id: u64 = d.d["id"].as_str().and_then(|s| s.parse().ok()).expect("a guild id");
            sent_to.entry(id).or_default().insert(d.shard);
        }
        if sent_to.len() == guilds.len() {
            break sent_to;
        }
        assert!(Instant::now() < deadline, "not every server was sent to a session: {sent_to:?}");
        tokio::time::sleep(ms(50)).await;
    };
    for (i, m) in mends.iter().enumerate() {
        let shard = i as u64;
        let mine: Vec<u64> = guilds.iter().map(|(_, g)| *g).filter(|g| (g >> 22) % total == shard).collect();
        assert_eq!(mine.len(), SPREAD.servers / mends.len(), "servers spread evenly over the shards: {guilds:?}");
        for g in &mine {
            let to = sent_to.get(g).cloned().unwrap_or_default();
            assert_eq!(to, [[shard, total]].into(), "server {g}: sent to the session of shard {shard} only");
        }
        let says = format!("in {} servers on shard {shard} of {total};", mine.len());
        assert!(m.log_text().contains(&says), "p{i} does not say {says:?}:\n{}", m.log_text());
    }
}
