//! The sandbox's page in a real browser: headless Chromium through WebDriver
//! (chromedriver), clicking and typing as a person would. Alex and Sam pair,
//! each takes the private safety check and says how they come to mend, a
//! prompt is made due now, both answer in the form it opens and both see the
//! reveal; Casey, another member, sees none of it.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use mend::cli::sandbox::{self, Options, Sandbox};
use mend::clock::ManualClock;
use serde_json::json;

use crate::support::bot::{SAFE, WAIT};

const ALEX_SAYS: &str = "Our walk on Sunday, when you held my hand.";
const SAM_SAYS: &str = "Making coffee together in the quiet.";
/// The newest prompt on the page: an embed with an Answer button.
const PROMPT: &str = "(//ol[@id='messages']/li[.//div[@class='embed']][.//button[normalize-space()='Answer']])[last()]";
const ROBIN_SAYS: &str = "The evening we cooked and laughed again.";
const JO_SAYS: &str = "When you asked about my day and waited.";

/// chromedriver, in a process group of its own with the Chromium it starts:
/// both are killed when this is dropped, even when the test fails.
struct Driver {
    child: Child,
    addr: SocketAddr,
}

impl Driver {
    fn start() -> Driver {
        let found = std::env::var_os("PATH")
            .map(|paths| std::env::split_paths(&paths).map(|p| p.join("chromedriver")).any(|p| p.is_file()))
            .unwrap_or(false);
        assert!(
            found,
            "chromedriver is missing: run .ci/run, which installs chromium and chromium-driver (Debian's packages)"
        );
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut command = Command::new("chromedriver");
        command.arg(format!("--port={port}")).stdout(Stdio::null()).stderr(Stdio::null());
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command.spawn().expect("chromedriver starts");
        let driver = Driver { child, addr: SocketAddr::from(([127, 0, 0, 1], port)) };
        let deadline = std::time::Instant::now() + WAIT;
        while TcpStream::connect(driver.addr).is_err() {
            assert!(std::time::Instant::now() < deadline, "chromedriver did not listen on {}", driver.addr);
            std::thread::sleep(Duration::from_millis(50));
        }
        driver
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The whole group: chromedriver and the browser it started, by the
        // system call itself (a `kill -PGID` command line can be read as
        // options, and `kill(-1)` is every process there is).
        let group = i32::try_from(self.child.id()).ok().and_then(rustix::process::Pid::from_raw);
        if let Some(group) = group.filter(|g| g.as_raw_nonzero().get() > 1) {
            let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A headless Chromium on the page, and what it takes to drive it.
struct Browser {
    client: Client,
    shots: PathBuf,
    _profile: tempfile::TempDir,
    _driver: Driver,
}

impl Browser {
    async fn launch(url: &str) -> Browser {
        let driver = Driver::start();
        let profile = tempfile::tempdir().unwrap();
        let mut args: Vec<String> = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            // This closed network refuses Chromium's own connections.
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,900",
        ]
        .map(String::from)
        .to_vec();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let mut options = json!({ "args": args });
        if std::path::Path::new("/usr/bin/chromium").exists() {
            options["binary"] = json!("/usr/bin/chromium");
        }
        let mut caps = serde_json::Map::new();
        caps.insert("goog:chromeOptions".into(), options);
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://{}", driver.addr))
            .await
            .expect("chromedriver starts a headless Chromium");
        client.goto(url).await.unwrap();
        let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/browser");
        std::fs::create_dir_all(&shots).unwrap();
        Browser { client, shots, _profile: profile, _driver: driver }
    }

    /// Polls until an element matching `xpath` is there (the page polls the
    /// local Discord, so what mend posts shows up a moment later).
    async fn find(&self, xpath: &str) -> fantoccini::elements::Element {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if let Ok(found) = self.client.find(Locator::XPath(xpath)).await {
                return found;
            }
            assert!(tokio::time::Instant::now() < deadline, "the page never showed {xpath}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Clicks what matches `xpath` once it is there and clickable (an element
    /// the page redrew meanwhile is looked for again).
    async fn click(&self, xpath: &str) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if let Ok(found) = self.client.find(Locator::XPath(xpath)).await
                && found.click().await.is_ok()
            {
                return;
            }
            assert!(tokio::time::Instant::now() < deadline, "could not click {xpath}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn select(&self, css: &str, value: &str) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if let Ok(found) = self.client.find(Locator::Css(css)).await
                && found.select_by_value(value).await.is_ok()
            {
                return;
            }
            assert!(tokio::time::Instant::now() < deadline, "could not choose {value} in {css}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Chooses who the page shows, and waits until it shows their #general.
    async fn be(&self, who: &str) {
        self.select("#who", who).await;
        self.find(&format!("//ol[@id='messages'][@data-who='{who}']")).await;
    }

    /// Opens a channel from the sidebar by the start of its label.
    async fn open(&self, label: &str) {
        self.click(&format!("//nav//button[starts-with(normalize-space(), '{label}')]")).await;
        self.find(&format!("//h2[@id='channel-title'][starts-with(normalize-space(), '{label}')]")).await;
    }

    /// Runs a slash command from the composer with `options` as `(name, value)`
    /// (a select's value, or what is typed).
    async fn run(&self, command: &str, options: &[(&str, &str)]) {
        self.select("#command", command).await;
        for (name, value) in options {
            let id = format!("opt-{name}");
            let field = self.find(&format!("//*[@id='{id}']")).await;
            if field.tag_name().await.unwrap() == "select" {
                self.select(&format!("#{id}"), value).await;
            } else {
                field.send_keys(value).await.unwrap();
            }
        }
        self.click("//button[@id='send']").await;
    }

    /// Clicks the button labelled `label` on the newest message containing `text`.
    async fn press(&self, text: &str, label: &str) {
        self.click(&format!("{}//button[normalize-space()='{label}']", message(text))).await;
    }

    /// The text of every message the page shows now.
    async fn messages_text(&self) -> String {
        self.client.find(Locator::Id("messages")).await.unwrap().text().await.unwrap()
    }

    /// Answers the newest prompt through its form with `words` (a screenshot
    /// of the filled form named `shot`, if given).
    async fn answer(&self, words: &str, shot: Option<&str>) {
        self.click(&format!("{PROMPT}//button[normalize-space()='Answer']")).await;
        let answer = self.find("//dialog[@open]//*[@id='modal-answer']").await;
        answer.send_keys(words).await.unwrap();
        if let Some(name) = shot {
            self.screenshot(name).await;
        }
        self.click("//dialog[@open]//button[@id='modal-submit']").await;
    }

    async fn screenshot(&self, name: &str) -> PathBuf {
        let path = self.shots.join(format!("{name}.png"));
        std::fs::write(&path, self.client.screenshot().await.unwrap()).unwrap();
        println!("screenshot: {}", path.display());
        path
    }
}

/// The newest message in the list that contains `text`.
fn message(text: &str) -> String {
    format!("(//ol[@id='messages']/li[contains(normalize-space(.), \"{text}\")])[last()]")
}

/// The private safety check from the welcome, answered safe, then the role.
async fn check_in_privately(page: &Browser, role: &str) {
    page.press("Welcome", "Tell mend privately").await;
    for (n, answer) in SAFE.iter().enumerate() {
        let asked = format!("{} of 3", n + 1);
        page.find(&format!("{}//div[@class='only-you']", message(&asked))).await;
        page.press(&asked, answer).await;
    }
    page.press("How do you come to mend", role).await;
    page.find(&message("Thank you for telling me")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_couple_in_the_browser() {
    let _ = tracing_subscriber::fmt().with_env_filter("mend=info,warn").with_test_writer().try_init();
    let (_dir, started) = start_sandbox().await;
    run(&started).await;
    started.stop().await;
}

/// The sandbox on free ports, with a clock held still on the day the server
/// tests use: a couple's first prompt is then one both answer, revealed
/// together. The directory holds its database while it runs.
async fn start_sandbox() -> (tempfile::TempDir, Sandbox) {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(crate::support::at("2026-01-05T07:30:00Z")));
    let started = sandbox::start(Options {
        db: dir.path().join("mend-sandbox.db"),
        keep: false,
        control_port: 0,
        web_port: 0,
        extra_prompts: vec![],
        schedule: "daily 08:30".into(),
        reflection: "sun 19:00".into(),
        clock,
    })
    .await
    .expect("the sandbox starts");
    (dir, started)
}

async fn run(sandbox: &Sandbox) {
    sandbox.sim.wait_for_bot_ready(WAIT).await.unwrap();
    sandbox.sim.wait_for_command("couple", WAIT).await.unwrap();
    let sam_id = sandbox.sim.user("sam").id().to_string();
    let page = Browser::launch(&sandbox.url()).await;

    // Alex invites Sam from #general; only Alex sees that reply.
    page.be("alex").await;
    page.run("couple start", &[("partner", &sam_id)]).await;
    page.find(&format!("{}//div[@class='only-you']", message("invitation privately"))).await;
    page.screenshot("01-alex-invites").await;

    // Sam finds the invitation in their DMs with mend, and accepts.
    page.be("sam").await;
    assert!(!page.messages_text().await.contains("invitation"), "Sam's #general shows nothing of it");
    page.open("@ mend").await;
    page.press("would like to use mend", "Accept").await;
    page.open("# mend-").await;
    check_in_privately(&page, "I was hurt").await;
    page.screenshot("02-sam-checked-in").await;

    page.be("alex").await;
    page.open("# mend-").await;
    check_in_privately(&page, "I broke trust").await;

    // No one waits: the next prompt is due now.
    page.click("//button[@id='due-prompt']").await;
    let prompt = PROMPT;
    page.find(prompt).await;
    let footer = page.find(&format!("{prompt}//div[@class='embed-footer']")).await.text().await.unwrap();
    assert!(footer.contains("each other's answers"), "this couple's first prompt is one both answer: {footer}");
    page.screenshot("03-the-prompt").await;

    for (who, words) in [("alex", ALEX_SAYS), ("sam", SAM_SAYS)] {
        if who == "sam" {
            page.be("sam").await;
            page.open("# mend-").await;
        }
        page.answer(words, (who == "alex").then_some("04-the-answer-form")).await;
        page.find(&format!("{}//div[@class='only-you']", message("Saved"))).await;
    }

    // Both answered: the reveal, in a thread under the prompt, for both.
    for who in ["sam", "alex"] {
        if who == "alex" {
            page.be("alex").await;
            page.open("# mend-").await;
        }
        page.click(&format!("{prompt}//button[normalize-space()='Open the thread']")).await;
        page.find(&message(ALEX_SAYS)).await;
        page.find(&message(SAM_SAYS)).await;
    }
    page.screenshot("05-the-reveal").await;

    // Casey, another member: no private channel, nothing of the answers.
    page.be("casey").await;
    let channels = page.client.find(Locator::Id("channels")).await.unwrap().text().await.unwrap();
    assert!(channels.contains("general") && !channels.contains("mend-"), "Casey's channels: {channels}");
    let general = page.messages_text().await;
    for private in [ALEX_SAYS, SAM_SAYS, "invitation", "has answered"] {
        assert!(!general.contains(private), "Casey's #general shows {private:?}: {general}");
    }
    let source = page.client.source().await.unwrap();
    assert!(!source.contains(ALEX_SAYS) && !source.contains(SAM_SAYS), "the answers are nowhere on Casey's page");
    // What Casey cannot do is a kind line on the page, not a broken page.
    page.click("//button[@id='due-prompt']").await;
    page.find("//p[@id='notice'][contains(., 'casey is not in a couple yet')]").await;
    page.screenshot("06-casey-sees-none-of-it").await;
    page.client.clone().close().await.unwrap();
}

/// Robin and Jo pair in direct messages with mend, in the page: a code from
/// `/couple start` (its timezone suggested as it is typed), `/couple join` with it, each one's private questions in
/// their own DMs, a prompt brought forward, both answers, and each one's reveal
/// in their DMs; Casey's page shows none of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_couple_in_direct_messages_in_the_browser() {
    let (_dir, started) = start_sandbox().await;
    in_direct_messages(&started).await;
    started.stop().await;
}

async fn in_direct_messages(sandbox: &Sandbox) {
    sandbox.sim.wait_for_bot_ready(WAIT).await.unwrap();
    sandbox.sim.wait_for_command("couple", WAIT).await.unwrap();
    let page = Browser::launch(&sandbox.url()).await;

    page.be("robin").await;
    page.open("@ mend").await;
    // The timezone is suggested as it is typed (mend's autocomplete).
    page.select("#command", "couple start").await;
    let zone = page.find("//*[@id='opt-timezone']").await;
    zone.send_keys("Europe/Par").await.unwrap();
    page.find("//datalist[@id='opt-timezone-choices']/option[@value='Europe/Paris']").await;
    zone.send_keys("is").await.unwrap();
    page.click("//button[@id='send']").await;
    let reply = page.find(&message("pairing code")).await.text().await.unwrap();
    let code: String = reply
        .split("pairing code is")
        .nth(1)
        .unwrap_or_else(|| panic!("{reply}"))
        .trim()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    assert_eq!(code.len(), 8, "{reply}");

    page.be("jo").await;
    page.open("@ mend").await;
    page.run("couple join", &[("code", &code)]).await;
    page.find(&message("Welcome")).await;
    check_in_privately(&page, "I was hurt").await;

    page.be("robin").await;
    page.open("@ mend").await;
    check_in_privately(&page, "I broke trust").await;

    page.click("//button[@id='due-prompt']").await;
    let prompt = PROMPT;
    page.find(prompt).await;
    for (who, words) in [("robin", ROBIN_SAYS), ("jo", JO_SAYS)] {
        if who == "jo" {
            page.be("jo").await;
            page.open("@ mend").await;
        }
        page.answer(words, None).await;
        page.find(&message("Saved")).await;
    }
    // Each one's reveal comes in their own DMs, with both answers.
    for who in ["jo", "robin"] {
        if who == "robin" {
            page.be("robin").await;
            page.open("@ mend").await;
        }
        page.find(&message(ROBIN_SAYS)).await;
        page.find(&message(JO_SAYS)).await;
    }
    page.screenshot("07-robin-and-jo-in-dms").await;

    page.be("casey").await;
    page.open("@ mend").await;
    let source = page.client.source().await.unwrap();
    assert!(!source.contains(ROBIN_SAYS) && !source.contains(JO_SAYS), "nothing of theirs on Casey's page");
    assert!(!source.contains(&code), "nor their pairing code");
    page.client.clone().close().await.unwrap();
}
