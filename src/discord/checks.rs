//! What mend needs from Discord, checked against what Discord says: the token,
//! the Server Members Intent, mend's permissions in each server (computed like
//! Discord: @everyone and the bot's roles; ADMINISTRATOR and ownership grant
//! all) and its registered commands. `mend doctor` prints these checks, and
//! `mend run` says at start-up whatever they flag.

use poise::serenity_prelude as serenity;
use serenity::{ApplicationFlags, GuildId, Http, Permissions, UserId};

use super::{BotConfig, StartError};

/// Every permission mend uses, and the invite link asks for: it creates each
/// couple's private channel with overwrites (MANAGE_CHANNELS; MANAGE_ROLES for
/// the overwrites, which may only grant what mend holds itself, so everything
/// it gives the partners too) and deletes it at `/couple end`; posts prompts
/// with embeds and the weekly picture as a file; opens a public thread under a
/// prompt for each reveal and posts in it; reads recent history to find a post
/// an earlier attempt made. Deleting its own messages needs nothing more.
pub const NEEDED: Permissions = Permissions::VIEW_CHANNEL
    .union(Permissions::SEND_MESSAGES)
    .union(Permissions::EMBED_LINKS)
    .union(Permissions::ATTACH_FILES)
    .union(Permissions::READ_MESSAGE_HISTORY)
    .union(Permissions::CREATE_PUBLIC_THREADS)
    .union(Permissions::SEND_MESSAGES_IN_THREADS)
    .union(Permissions::MANAGE_CHANNELS)
    .union(Permissions::MANAGE_ROLES)
    .union(Permissions::USE_APPLICATION_COMMANDS);

/// The link that adds mend to a server with exactly the permissions it needs.
pub fn invite_link(application_id: u64) -> String {
    format!(
        "https://discord.com/oauth2/authorize?client_id={application_id}&scope=bot+applications.commands&permissions={}",
        NEEDED.bits()
    )
}

/// One line of the checklist: what was found, and the fix when it is a problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub ok: bool,
    pub what: String,
    pub fix: Option<String>,
}

impl Check {
    pub fn ok(what: impl Into<String>) -> Check {
        Check { ok: true, what: what.into(), fix: None }
    }

    pub fn problem(what: impl Into<String>, fix: impl Into<String>) -> Check {
        Check { ok: false, what: what.into(), fix: Some(fix.into()) }
    }
}

impl std::fmt::Display for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.fix, self.ok) {
            (Some(fix), false) => write!(f, "✗ {} — {fix}", self.what),
            (_, false) => write!(f, "✗ {}", self.what),
            _ => write!(f, "✓ {}", self.what),
        }
    }
}

/// Whether the application has the Server Members Intent on (either bit:
/// verified apps get the full one, others the "limited" one).
pub fn members_intent(flags: Option<ApplicationFlags>) -> Check {
    let on = ApplicationFlags::GATEWAY_GUILD_MEMBERS | ApplicationFlags::GATEWAY_GUILD_MEMBERS_LIMITED;
    if flags.is_some_and(|f| f.intersects(on)) {
        Check::ok("Server Members Intent is on (mend needs it to know when a partner leaves a server)")
    } else {
        Check::problem(
            "Server Members Intent is off",
            "Developer Portal → your app → Bot → Privileged Gateway Intents → turn on Server Members Intent",
        )
    }
}

/// A member's server-wide permissions, as Discord computes them.
pub fn server_permissions(owner: bool, everyone: Permissions, roles: &[Permissions]) -> Permissions {
    if owner {
        return Permissions::all();
    }
    let perms = roles.iter().fold(everyone, |acc, r| acc | *r);
    if perms.administrator() { Permissions::all() } else { perms }
}

/// The permissions mend needs that `have` lacks, by the names Discord shows.
pub fn missing(have: Permissions) -> Vec<&'static str> {
    (NEEDED - have).get_permission_names()
}

/// One server mend is in, and what it lacks there.
#[derive(Debug, Clone)]
pub struct Server {
    pub id: u64,
    pub name: String,
    pub missing: Vec<&'static str>,
}

impl Server {
    pub fn check(&self, application_id: u64) -> Check {
        if self.missing.is_empty() {
            return Check::ok(format!("server \"{}\": mend has every permission it needs", self.name));
        }
        let names = self.missing.join(", ");
        Check::problem(
            format!("server \"{}\": mend lacks {names}", self.name),
            format!(
                "Server Settings → Roles → mend's role → turn on {names} (or invite mend again with {})",
                invite_link(application_id)
            ),
        )
    }
}

/// Every server the bot is in that `mine` keeps (by id: those on this
/// process's shards), with what it lacks in each (its member's roles and
/// @everyone, read from Discord).
pub async fn servers(http: &Http, bot: UserId, mine: impl Fn(u64) -> bool) -> serenity::Result<Vec<Server>> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = http.get_guilds(after.map(serenity::GuildPagination::After), Some(200)).await?;
        let last = page.last().map(|g| g.id);
        for g in page.iter().filter(|g| mine(g.id.get())) {
            let member = http.get_member(g.id, bot).await?;
            let roles = http.get_guild_roles(g.id).await?;
            let everyone =
                roles.iter().find(|r| r.id.get() == g.id.get()).map_or(Permissions::empty(), |r| r.permissions);
            let held: Vec<Permissions> =
                roles.iter().filter(|r| member.roles.contains(&r.id)).map(|r| r.permissions).collect();
            let have = server_permissions(g.owner, everyone, &held);
            out.push(Server { id: g.id.get(), name: g.name.clone(), missing: missing(have) });
        }
        match last {
            Some(id) if page.len() == 200 => after = Some(id),
            _ => return Ok(out),
        }
    }
}

/// Whether every one of mend's commands is registered where mend registers
/// them: globally, or in DISCORD_GUILD_ID.
pub async fn commands_registered(http: &Http, guild_id: Option<u64>) -> Check {
    let registered = match guild_id {
        Some(g) => http.get_guild_commands(GuildId::new(g)).await,
        None => http.get_global_commands().await,
    };
    let place = match guild_id {
        Some(g) => format!("in server {g} (DISCORD_GUILD_ID)"),
        None => "globally".to_string(),
    };
    let registered = match registered {
        Ok(r) => r,
        Err(e) => {
            let fix = match (guild_id, super::deliver::discord_code(&e)) {
                (Some(_), Some(50001)) => "invite mend to that server, or unset DISCORD_GUILD_ID".to_string(),
                (Some(_), Some(10004)) => "check the server id, or unset DISCORD_GUILD_ID".to_string(),
                _ => format!("{e} — try again; if it persists, check the application in the Developer Portal"),
            };
            return Check::problem(format!("could not read mend's commands {place}"), fix);
        }
    };
    let names: Vec<String> = registered.iter().map(|c| c.name.clone()).collect();
    let wanted: Vec<String> = super::commands::all().into_iter().map(|c| c.name.to_string()).collect();
    let absent: Vec<&str> = wanted.iter().filter(|w| !names.contains(w)).map(String::as_str).collect();
    if absent.is_empty() {
        Check::ok(format!("mend's {} commands are registered {place}", wanted.len()))
    } else if absent.len() == wanted.len() {
        Check::problem(
            format!("none of mend's {} commands are registered {place}", wanted.len()),
            "start `mend run` once: it registers them as it starts",
        )
    } else {
        Check::problem(
            format!("mend's commands are not all registered {place} (missing: /{})", absent.join(", /")),
            "start `mend run` once: it registers them as it starts",
        )
    }
}

/// What Discord says about mend, as checks: the token, the intent, each
/// server's permissions, the commands. Stops after a check that makes the
/// others meaningless (a rejected token, Discord out of reach).
pub async fn discord(config: &BotConfig) -> Vec<Check> {
    let http = match super::http(config) {
        Ok(http) => http,
        Err(StartError::Cert(path, e)) => {
            return vec![Check::problem(
                format!("could not read the extra root certificate {}: {e}", path.display()),
                "point DISCORD_EXTRA_ROOT_CERT at a PEM file, or unset it (it is only for a local Discord)",
            )];
        }
        Err(e) => return vec![Check::problem(e.to_string(), "check the network and DISCORD_API_ADDR")],
    };
    let mut checks = Vec::new();
    let me = match http.get_current_user().await {
        Ok(me) => me,
        Err(e) => {
            checks.push(token_problem(&e));
            return checks;
        }
    };
    checks.push(Check::ok(format!("the token is valid: mend signs in as {} ({})", me.name, me.id)));
    let app = match http.get_current_application_info().await {
        Ok(app) => app,
        Err(e) => {
            checks.push(Check::problem(format!("could not read the application: {e}"), "try again in a minute"));
            return checks;
        }
    };
    http.set_application_id(app.id);
    checks.push(members_intent(app.flags));
    match servers(&http, me.id, |_| true).await {
        Ok(servers) if servers.is_empty() => checks.push(Check::problem(
            "mend is in no server (partners can only reach it through a server they share with it)",
            format!("invite it: {}", invite_link(app.id.get())),
        )),
        Ok(servers) => checks.extend(servers.iter().map(|s| s.check(app.id.get()))),
        Err(e) => checks.push(Check::problem(format!("could not read mend's servers: {e}"), "try again in a minute")),
    }
    checks.push(commands_registered(&http, config.guild_id).await);
    checks
}

/// A failed first request, worded with its fix.
fn token_problem(e: &serenity::Error) -> Check {
    match e {
        serenity::Error::Http(h) if h.status_code().is_some_and(|s| s.as_u16() == 401) => Check::problem(
            "Discord rejected the token",
            "Developer Portal → your app → Bot → Reset Token, then put the new token in DISCORD_TOKEN",
        ),
        _ => Check::problem(
            format!("could not reach Discord: {e}"),
            "check the network (and DISCORD_API_ADDR, if set), then try again",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_and_administrators_have_everything_others_what_their_roles_give() {
        let everyone = Permissions::VIEW_CHANNEL | Permissions::SEND_MESSAGES;
        assert!(missing(server_permissions(true, Permissions::empty(), &[])).is_empty());
        assert!(missing(server_permissions(false, everyone, &[Permissions::ADMINISTRATOR])).is_empty());
        let have = server_permissions(false, everyone, &[NEEDED - Permissions::MANAGE_ROLES]);
        assert_eq!(missing(have), vec!["Manage Roles"]);
        assert!(missing(everyone).contains(&"Manage Channels"));
    }

    #[test]
    fn the_invite_link_asks_for_exactly_what_mend_needs() {
        let link = invite_link(42);
        assert!(link.starts_with("https://discord.com/oauth2/authorize?client_id=42&scope=bot+applications.commands"));
        let n: u64 = link.rsplit("permissions=").next().unwrap().parse().unwrap();
        assert_eq!(Permissions::from_bits(n), Some(NEEDED));
        assert!(!Permissions::from_bits_truncate(n).administrator());
    }
}
