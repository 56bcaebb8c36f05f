//! Application commands: bulk overwrite (what poise's `register_*` does) with
//! Discord's naming rules, and lookup for the users the sim plays.

use serde_json::{Value, json};

use super::State;
use super::model::Command;
use crate::error::{ApiError, FormErrors};
use crate::json::{sf, sf_opt};

fn valid_name(name: &str) -> bool {
    let n = name.chars().count();
    (1..=32).contains(&n) && name.chars().all(|c| (c.is_alphanumeric() && !c.is_uppercase()) || c == '-' || c == '_')
}

fn check_options(errors: &mut FormErrors, path: &mut Vec<String>, options: &[Value]) {
    if options.len() > 25 {
        errors.max_length(&refs(path), 25);
    }
    let mut seen_optional = false;
    for (i, o) in options.iter().enumerate() {
        path.push(i.to_string());
        let name = o["name"].as_str().unwrap_or_default();
        if !valid_name(name) {
            path.push("name".into());
            errors.add(&refs(path), "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid");
            path.pop();
        }
        let description = o["description"].as_str().map_or(0, |d| d.chars().count());
        if !(1..=100).contains(&description) {
            path.push("description".into());
            errors.add(&refs(path), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.");
            path.pop();
        }
        let kind = o["type"].as_u64().unwrap_or(0);
        if !(1..=11).contains(&kind) {
            path.push("type".into());
            errors.add(&refs(path), "BASE_TYPE_CHOICES", "Value must be one of {1..11}.");
            path.pop();
        }
        let required = o["required"].as_bool().unwrap_or(false);
        if required && seen_optional {
            path.push("required".into());
            errors.add(
                &refs(path),
                "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                "Required options must be placed before non-required options",
            );
            path.pop();
        }
        seen_optional |= !required && kind > 2;
        if let Some(sub) = o["options"].as_array() {
            path.push("options".into());
            check_options(errors, path, sub);
            path.pop();
        }
        path.pop();
    }
}

fn refs(path: &[String]) -> Vec<&str> {
    path.iter().map(String::as_str).collect()
}

impl State {
    /// `PUT .../commands`: replaces the set for `guild` (or the global set).
    /// Commands keep their id when a command of the same name and type exists.
    pub(crate) fn set_commands(&mut self, guild: Option<u64>, body: &Value) -> Result<Vec<Value>, ApiError> {
        let list = body.as_array().ok_or_else(|| {
            ApiError::invalid_field(&[], "BASE_TYPE_ARRAY", "Only iterables may be used in a ListType")
        })?;
        let mut errors = FormErrors::default();
        if list.len() > 100 {
            errors.max_length(&[], 100);
        }
        let mut names = vec![];
        for (i, c) in list.iter().enumerate() {
            let i = i.to_string();
            let kind = c["type"].as_u64().unwrap_or(1);
            let name = c["name"].as_str().unwrap_or_default();
            let name_ok = if kind == 1 { valid_name(name) } else { (1..=32).contains(&name.chars().count()) };
            if !name_ok {
                errors.add(&[&i, "name"], "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid");
            }
            let description = c["description"].as_str().map_or(0, |d| d.chars().count());
            if kind == 1 && !(1..=100).contains(&description) {
                errors.add(&[&i, "description"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.");
            }
            if names.contains(&(kind, name)) {
                errors.add(
                    &[&i, "name"],
                    "APPLICATION_COMMANDS_DUPLICATE_NAME",
                    "Application command names must be unique",
                );
            }
            names.push((kind, name));
            if let Some(options) = c["options"].as_array() {
                check_options(&mut errors, &mut vec![i.clone(), "options".into()], options);
            }
        }
        errors.into_result()?;
        let old: Vec<Command> = self.commands.iter().filter(|c| c.guild_id == guild).cloned().collect();
        self.commands.retain(|c| c.guild_id != guild);
        let mut out = vec![];
        for c in list {
            let kind = c["type"].as_u64().unwrap_or(1) as u8;
            let name = c["name"].as_str().unwrap_or_default().to_owned();
            let id = old.iter().find(|o| o.name == name && o.kind == kind).map_or_else(|| self.ids.next(), |o| o.id);
            let mut stored = json!({
                "id": sf(id),
                "application_id": sf(self.app_id()),
                "guild_id": sf_opt(guild),
                "type": kind,
                "name": name,
                "name_localizations": c.get("name_localizations").cloned().unwrap_or(Value::Null),
                "description": c["description"].as_str().unwrap_or_default(),
                "description_localizations": c.get("description_localizations").cloned().unwrap_or(Value::Null),
                "options": c.get("options").cloned().unwrap_or(json!([])),
                "default_member_permissions": c.get("default_member_permissions").cloned().unwrap_or(Value::Null),
                "nsfw": c["nsfw"].as_bool().unwrap_or(false),
                "integration_types": c.get("integration_types").cloned().unwrap_or(json!([0])),
                "contexts": c.get("contexts").cloned().unwrap_or(Value::Null),
                "version": sf(self.ids.next()),
            });
            if guild.is_none() {
                stored["dm_permission"] = c.get("dm_permission").cloned().unwrap_or(json!(true));
            } else if let Some(o) = stored.as_object_mut() {
                o.remove("contexts");
            }
            out.push(stored.clone());
            self.commands.push(Command { id, guild_id: guild, name, kind, body: stored });
        }
        Ok(out)
    }

    pub(crate) fn commands_of(&self, guild: Option<u64>) -> Vec<Value> {
        self.commands.iter().filter(|c| c.guild_id == guild).map(|c| c.body.clone()).collect()
    }

    /// The chat-input command a user can run by `name` here: guild commands
    /// exist only in their guild; in DMs only global commands whose
    /// `contexts` (or `dm_permission`) allow the bot's DM.
    pub(crate) fn runnable_command(&self, name: &str, guild: Option<u64>) -> Option<&Command> {
        let candidates = self.commands.iter().filter(|c| c.kind == 1 && c.name == name);
        let mut found = None;
        for c in candidates {
            match (c.guild_id, guild) {
                (Some(g), Some(here)) if g == here => return Some(c),
                (None, Some(_)) => found = Some(c),
                (None, None) => {
                    let contexts_ok =
                        c.body["contexts"].as_array().is_none_or(|ctx| ctx.iter().any(|v| v.as_u64() == Some(1)));
                    let dm_ok = c.body["dm_permission"].as_bool() != Some(false);
                    if contexts_ok && dm_ok {
                        found = Some(c);
                    }
                }
                _ => {}
            }
        }
        found
    }
}
