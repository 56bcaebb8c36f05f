//! Gateway sessions: sequence numbers, intent and shard filtering, the replay
//! buffer for RESUME, and the test controls (op 7, op 9, dropped sockets).

use std::collections::{BTreeMap, VecDeque};

use serde_json::{Value, json};
use tokio::sync::mpsc::UnboundedSender;

use crate::config::intents;

/// What a connection task should do next.
#[derive(Debug)]
pub(crate) enum Outbound {
    Frame(String),
    Close(u16, String),
    /// Drop the TCP connection without a close frame, like a network failure.
    Abort,
}

/// Whether a dispatch's message content depends on MESSAGE_CONTENT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Content {
    Visible,
    /// Guild message not mentioning the bot and not sent by it.
    Privileged,
}

/// One event on its way to the bot.
#[derive(Clone, Debug)]
pub(crate) struct Dispatch {
    pub t: String,
    pub d: Value,
    /// Intent the session must have asked for (0: none needed).
    pub intent: u64,
    /// Guild the event belongs to (shard routing); DMs and global events go to shard 0.
    pub guild_id: Option<u64>,
    /// READY and RESUMED belong to the session itself, whatever its shard.
    pub session_bound: bool,
    pub content: Content,
}

impl Dispatch {
    pub fn new(t: impl Into<String>, d: Value) -> Self {
        Self { t: t.into(), d, intent: 0, guild_id: None, session_bound: false, content: Content::Visible }
    }

    /// An event about the session (READY, RESUMED): sent to it on any shard.
    pub fn for_session(t: impl Into<String>, d: Value) -> Self {
        Self { session_bound: true, ..Self::new(t, d) }
    }

    pub fn intent(mut self, intent: u64) -> Self {
        self.intent = intent;
        self
    }

    pub fn guild(mut self, guild_id: Option<u64>) -> Self {
        self.guild_id = guild_id;
        self
    }

    pub fn content(mut self, content: Content) -> Self {
        self.content = content;
        self
    }
}

/// Counters a test can assert on.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct GatewayStats {
    pub connections: u32,
    pub identifies: u32,
    pub resumes: u32,
    pub failed_resumes: u32,
    pub heartbeats: u32,
    /// Intents of the latest IDENTIFY.
    pub last_intents: Option<u64>,
}

/// A dispatch the sim sent (or buffered) for a session.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SentDispatch {
    pub seq: u64,
    pub t: String,
    pub d: Value,
    /// The session's `[shard_id, num_shards]`, as it identified.
    pub shard: [u64; 2],
}

const REPLAY_BUFFER: usize = 2000;

struct Conn {
    tx: UnboundedSender<Outbound>,
    session: Option<String>,
}

struct Session {
    intents: u64,
    shard: (u64, u64),
    seq: u64,
    conn: Option<u64>,
    sent: VecDeque<SentDispatch>,
}

#[derive(Default)]
pub(crate) struct Gateway {
    conns: BTreeMap<u64, Conn>,
    sessions: BTreeMap<String, Session>,
    next_conn: u64,
    drop_acks: u32,
    pub stats: GatewayStats,
}

/// Why a resume was refused; the caller answers op 9 `false`.
pub(crate) struct ResumeRefused;

impl Gateway {
    pub fn connect(&mut self, tx: UnboundedSender<Outbound>) -> u64 {
        self.next_conn += 1;
        self.conns.insert(self.next_conn, Conn { tx, session: None });
        self.stats.connections += 1;
        self.next_conn
    }

    pub fn disconnect(&mut self, conn: u64) {
        if let Some(c) = self.conns.remove(&conn)
            && let Some(session) = c.session.and_then(|s| self.sessions.get_mut(&s))
            && session.conn == Some(conn)
        {
            session.conn = None;
        }
    }

    pub fn is_authenticated(&self, conn: u64) -> bool {
        self.conns.get(&conn).is_some_and(|c| c.session.is_some())
    }

    /// Starts a session on `conn`. The caller then sends READY and GUILD_CREATEs.
    pub fn identify(&mut self, conn: u64, session_id: String, intents: u64, shard: (u64, u64)) {
        self.stats.identifies += 1;
        self.stats.last_intents = Some(intents);
        if let Some(c) = self.conns.get_mut(&conn) {
            c.session = Some(session_id.clone());
        }
        let session = Session { intents, shard, seq: 0, conn: Some(conn), sent: VecDeque::new() };
        self.sessions.insert(session_id, session);
    }

    /// Re-attaches a session to `conn`, replays what it missed after `seq`
    /// and sends RESUMED.
    pub fn resume(&mut self, conn: u64, session_id: &str, seq: u64) -> Result<(), ResumeRefused> {
        let Some(session) = self.sessions.get_mut(session_id) else {
            self.stats.failed_resumes += 1;
            return Err(ResumeRefused);
        };
        let oldest = session.sent.front().map_or(session.seq + 1, |d| d.seq);
        if seq > session.seq || seq + 1 < oldest {
            self.stats.failed_resumes += 1;
            return Err(ResumeRefused);
        }
        self.stats.resumes += 1;
        if let Some(old) = session.conn.replace(conn)
            && old != conn
            && let Some(c) = self.conns.get_mut(&old)
        {
            c.session = None;
            let _ = c.tx.send(Outbound::Abort);
        }
        if let Some(c) = self.conns.get_mut(&conn) {
            c.session = Some(session_id.to_owned());
            for missed in session.sent.iter().filter(|d| d.seq > seq) {
                let _ = c.tx.send(Outbound::Frame(frame(missed)));
            }
        }
        self.send_to(session_id, Dispatch::for_session("RESUMED", json!({})));
        Ok(())
    }

    /// Sends `d` to every session that asked for it.
    pub fn broadcast(&mut self, d: &Dispatch) {
        let ids: Vec<String> = self.sessions.keys().cloned().collect();
        for id in ids {
            self.send_to(&id, d.clone());
        }
    }

    /// Sends `d` to one session if its intents and shard want it.
    pub fn send_to(&mut self, session_id: &str, d: Dispatch) {
        let Some(session) = self.sessions.get_mut(session_id) else {
            return;
        };
        if d.intent != 0 && session.intents & d.intent == 0 {
            return;
        }
        let (shard, shards) = session.shard;
        // Discord's sharding formula; DMs and other events of no guild go to shard 0.
        let target = d.guild_id.map_or(0, |g| (g >> 22) % shards.max(1));
        if target != shard && !d.session_bound {
            return;
        }
        let mut payload = d.d;
        if d.content == Content::Privileged && session.intents & intents::MESSAGE_CONTENT == 0 {
            blank_content(&mut payload);
        }
        session.seq += 1;
        let sent = SentDispatch { seq: session.seq, t: d.t, d: payload, shard: [shard, shards] };
        if let Some(c) = session.conn.and_then(|c| self.conns.get(&c)) {
            let _ = c.tx.send(Outbound::Frame(frame(&sent)));
        }
        session.sent.push_back(sent);
        if session.sent.len() > REPLAY_BUFFER {
            session.sent.pop_front();
        }
    }

    /// Answers a heartbeat unless a test asked to swallow the next ACK.
    pub fn heartbeat(&mut self, conn: u64) {
        self.stats.heartbeats += 1;
        if self.drop_acks > 0 {
            self.drop_acks -= 1;
            return;
        }
        self.send_raw(conn, json!({"op": 11}));
    }

    pub fn send_raw(&self, conn: u64, frame: Value) {
        if let Some(c) = self.conns.get(&conn) {
            let _ = c.tx.send(Outbound::Frame(frame.to_string()));
        }
    }

    pub fn close(&self, conn: u64, code: u16, reason: &str) {
        if let Some(c) = self.conns.get(&conn) {
            let _ = c.tx.send(Outbound::Close(code, reason.into()));
        }
    }

    pub fn drop_next_acks(&mut self, n: u32) {
        self.drop_acks += n;
    }

    /// Sends what `make` builds to every connection that carries a session.
    fn to_live(&self, make: impl Fn() -> Outbound) -> usize {
        let mut sent = 0;
        for c in self.conns.values().filter(|c| c.session.is_some()) {
            let _ = c.tx.send(make());
            sent += 1;
        }
        sent
    }

    /// op 7: the bot should reconnect and resume.
    pub fn request_reconnect(&self) -> usize {
        self.to_live(|| Outbound::Frame(json!({"op": 7, "d": null}).to_string()))
    }

    /// op 9; a non-resumable invalidation also forgets the sessions.
    pub fn invalidate(&mut self, resumable: bool) -> usize {
        let frame = json!({"op": 9, "d": resumable}).to_string();
        let n = self.to_live(|| Outbound::Frame(frame.clone()));
        if !resumable {
            let dead: Vec<String> = self.sessions.keys().cloned().collect();
            self.forget(&dead);
        }
        n
    }

    /// Closes every live connection with `code`, or drops it without a close frame.
    pub fn drop_connections(&self, code: Option<u16>) -> usize {
        self.to_live(|| match code {
            Some(code) => Outbound::Close(code, "closed by discord-sim".into()),
            None => Outbound::Abort,
        })
    }

    fn forget(&mut self, sessions: &[String]) {
        for id in sessions {
            self.sessions.remove(id);
        }
        for c in self.conns.values_mut() {
            if c.session.as_ref().is_some_and(|s| sessions.contains(s)) {
                c.session = None;
            }
        }
    }

    pub fn connected_sessions(&self) -> usize {
        self.sessions.values().filter(|s| s.conn.is_some()).count()
    }

    /// Everything sent to sessions, oldest first (bounded by the replay buffer).
    pub fn sent(&self) -> Vec<SentDispatch> {
        let mut all: Vec<SentDispatch> = self.sessions.values().flat_map(|s| s.sent.iter().cloned()).collect();
        all.sort_by_key(|d| d.seq);
        all
    }
}

fn frame(d: &SentDispatch) -> String {
    json!({"op": 0, "s": d.seq, "t": d.t, "d": d.d}).to_string()
}

/// What Discord strips from guild messages for apps without MESSAGE_CONTENT.
fn blank_content(d: &mut Value) {
    if let Some(obj) = d.as_object_mut() {
        obj.insert("content".into(), json!(""));
        for key in ["embeds", "attachments", "components"] {
            obj.insert(key.into(), json!([]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

    fn frames(rx: &mut UnboundedReceiver<Outbound>) -> Vec<Value> {
        let mut out = vec![];
        while let Ok(o) = rx.try_recv() {
            if let Outbound::Frame(f) = o {
                out.push(serde_json::from_str(&f).unwrap());
            }
        }
        out
    }

    fn message(content: Content) -> Dispatch {
        Dispatch::new("MESSAGE_CREATE", json!({"content": "hi", "embeds": [1]}))
            .intent(intents::GUILD_MESSAGES)
            .guild(Some(1 << 22))
            .content(content)
    }

    #[test]
    fn filters_by_intent_and_blanks_privileged_content() {
        let mut gw = Gateway::default();
        let (tx, mut rx) = unbounded_channel();
        let conn = gw.connect(tx);
        gw.identify(conn, "s1".into(), intents::GUILDS, (0, 1));
        gw.broadcast(&message(Content::Visible));
        assert!(frames(&mut rx).is_empty(), "no GUILD_MESSAGES intent");

        let (tx, mut rx) = unbounded_channel();
        let conn = gw.connect(tx);
        gw.identify(conn, "s2".into(), intents::GUILD_MESSAGES, (0, 1));
        gw.send_to("s2", message(Content::Privileged));
        gw.send_to("s2", message(Content::Visible));
        let got = frames(&mut rx);
        assert_eq!(got[0]["d"]["content"], "");
        assert_eq!(got[0]["d"]["embeds"], json!([]));
        assert_eq!(got[1]["d"]["content"], "hi");
        assert_eq!((got[0]["s"].as_u64(), got[1]["s"].as_u64()), (Some(1), Some(2)));
    }

    #[test]
    fn resume_replays_missed_dispatches_then_resumed() {
        let mut gw = Gateway::default();
        let (tx, _rx) = unbounded_channel();
        let first = gw.connect(tx);
        gw.identify(first, "s".into(), 0, (0, 1));
        for _ in 0..3 {
            gw.send_to("s", Dispatch::new("X", json!({})));
        }
        gw.disconnect(first);
        gw.send_to("s", Dispatch::new("MISSED", json!({})));
        let (tx, mut rx) = unbounded_channel();
        let second = gw.connect(tx);
        assert!(gw.resume(second, "s", 3).is_ok());
        let got = frames(&mut rx);
        let names: Vec<_> = got.iter().map(|f| (f["t"].clone(), f["s"].clone())).collect();
        assert_eq!(names, vec![(json!("MISSED"), json!(4)), (json!("RESUMED"), json!(5))]);
        assert!(gw.resume(second, "s", 99).is_err(), "seq from the future");
        assert!(gw.resume(second, "nope", 1).is_err());
    }

    #[test]
    fn shards_route_guilds_and_dms() {
        let mut gw = Gateway::default();
        let (tx, mut rx) = unbounded_channel();
        let conn = gw.connect(tx);
        gw.identify(conn, "s".into(), 0, (1, 2));
        gw.send_to("s", Dispatch::new("DM", json!({})));
        gw.send_to("s", Dispatch::new("G0", json!({})).guild(Some(2 << 22)));
        gw.send_to("s", Dispatch::new("G1", json!({})).guild(Some(3 << 22)));
        gw.send_to("s", Dispatch::for_session("READY", json!({})));
        let got = frames(&mut rx);
        let names: Vec<_> = got.iter().map(|f| f["t"].clone()).collect();
        assert_eq!(names, vec![json!("G1"), json!("READY")], "shard 1 of 2: its guilds and its own READY, no DM");
        assert_eq!(gw.sent().iter().map(|d| d.shard).collect::<Vec<_>>(), vec![[1, 2], [1, 2]]);
    }

    #[test]
    fn a_session_on_another_shard_resumes() {
        let mut gw = Gateway::default();
        let (tx, _rx) = unbounded_channel();
        let first = gw.connect(tx);
        gw.identify(first, "s".into(), 0, (3, 4));
        gw.disconnect(first);
        let (tx, mut rx) = unbounded_channel();
        let second = gw.connect(tx);
        assert!(gw.resume(second, "s", 0).is_ok());
        assert_eq!(frames(&mut rx).iter().map(|f| f["t"].clone()).collect::<Vec<_>>(), vec![json!("RESUMED")]);
    }

    #[test]
    fn invalidation_without_resume_forgets_the_session() {
        let mut gw = Gateway::default();
        let (tx, _rx) = unbounded_channel();
        let conn = gw.connect(tx);
        gw.identify(conn, "s".into(), 0, (0, 1));
        assert_eq!(gw.invalidate(false), 1);
        assert!(gw.resume(conn, "s", 0).is_err());
    }
}
