//! Guild-side rules: overwrites the bot may set, private threads, leaving.

use std::sync::Arc;

use serde_json::json;

use super::State;
use crate::config::SimConfig;
use crate::perms::bits;

fn state() -> State {
    State::new(Arc::new(SimConfig::default()), "ws://127.0.0.1:1".into())
}

#[test]
fn overwrites_may_only_touch_permissions_the_bot_has() {
    let mut s = state();
    let guild = s.seeded.guild_id;
    let alex = s.seeded.user("alex").unwrap();
    let grant = |bits: u64| json!({"name": "c", "permission_overwrites": [{"id": alex.to_string(), "type": 1, "allow": bits.to_string(), "deny": "0"}]});
    assert_eq!(s.create_guild_channel(guild, &grant(bits::ADMINISTRATOR)).unwrap_err().code, 50013);
    assert_eq!(s.create_guild_channel(guild, &grant(bits::MANAGE_ROLES)).unwrap_err().code, 50013, "admins only");
    assert!(s.create_guild_channel(guild, &grant(bits::VIEW_CHANNEL | bits::SEND_MESSAGES)).is_ok());
    assert_eq!(s.create_guild_channel(guild, &json!({"name": ""})).unwrap_err().code, 50035);
}

#[test]
fn private_threads_are_for_their_members() {
    let mut s = state();
    let general = s.seeded.channel("general").unwrap();
    let (alex, sam) = (s.seeded.user("alex").unwrap(), s.seeded.user("sam").unwrap());
    let thread = s.thread_without_message(general, &json!({"name": "reveal", "type": 12})).unwrap();
    assert!(!s.can_view(thread, alex));
    s.add_thread_member(thread, alex).unwrap();
    assert!(s.can_view(thread, alex) && !s.can_view(thread, sam));
    s.user_post(alex, Some(thread), "only us").unwrap();
    assert!(s.user_post(sam, Some(thread), "me too").is_err());
}

#[test]
fn a_member_who_left_sees_nothing_and_cannot_be_dmed_or_dm() {
    let mut s = state();
    let guild = s.seeded.guild_id;
    let general = s.seeded.channel("general").unwrap();
    let alex = s.seeded.user("alex").unwrap();
    assert!(s.shares_guild_with_bot(alex));
    s.remove_member(guild, alex).unwrap();
    assert!(!s.can_view(general, alex));
    assert!(!s.shares_guild_with_bot(alex));
    assert!(s.user_post(alex, None, "hello?").is_err());
    assert_eq!(s.remove_member(guild, alex).unwrap_err().code, 10007);
}
