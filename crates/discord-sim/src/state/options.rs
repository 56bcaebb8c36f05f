//! Turning a test's `{"option": value}` object into the `options` and
//! `resolved` data Discord sends for a slash command, typed by the
//! registered command's option definitions.

use serde_json::{Map, Value, json};

use super::State;
use crate::error::SimError;
use crate::json::model::{channel, member, role, user};

const SUB_COMMAND: u64 = 1;
const SUB_COMMAND_GROUP: u64 = 2;

fn invalid(msg: String) -> SimError {
    SimError::Invalid(msg)
}

fn id_of(v: &Value) -> Option<u64> {
    v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

/// What a user typed: options of the innermost (sub)command, optionally with
/// one focused option for autocomplete.
pub(crate) struct Invocation<'a> {
    pub path: &'a [&'a str],
    pub values: &'a Map<String, Value>,
    pub focused: Option<&'a str>,
}

impl State {
    /// Builds `(options, resolved)` for `command_body`.
    pub(crate) fn build_options(
        &self,
        command_body: &Value,
        guild: Option<u64>,
        inv: &Invocation,
    ) -> Result<(Vec<Value>, Value), SimError> {
        let mut resolved = json!({});
        let mut defs = command_body["options"].as_array().cloned().unwrap_or_default();
        // Wrap the leaf options in their subcommand (group) from the inside out.
        let mut chain = vec![];
        for name in inv.path {
            let def = defs
                .iter()
                .find(|d| d["name"] == *name && matches!(d["type"].as_u64(), Some(SUB_COMMAND | SUB_COMMAND_GROUP)))
                .cloned()
                .ok_or_else(|| invalid(format!("no subcommand {name:?}")))?;
            defs = def["options"].as_array().cloned().unwrap_or_default();
            chain.push(def);
        }
        if defs.iter().any(|d| matches!(d["type"].as_u64(), Some(SUB_COMMAND | SUB_COMMAND_GROUP))) {
            return Err(invalid("a subcommand must be chosen".into()));
        }
        let mut leaf = vec![];
        // In definition order, as the Discord client sends them.
        let mut given: Vec<(&String, &Value)> = inv.values.iter().collect();
        given.sort_by_key(|(name, _)| defs.iter().position(|d| d["name"] == **name));
        for (name, value) in given {
            let def =
                defs.iter().find(|d| d["name"] == *name).ok_or_else(|| invalid(format!("unknown option {name:?}")))?;
            let focused = inv.focused == Some(name.as_str());
            leaf.push(self.option_value(def, value, focused, guild, &mut resolved)?);
        }
        if inv.focused.is_none() {
            for d in &defs {
                let name = d["name"].as_str().unwrap_or_default();
                if d["required"].as_bool() == Some(true) && !inv.values.contains_key(name) {
                    return Err(invalid(format!("required option {name:?} missing")));
                }
            }
        } else if !leaf.iter().any(|o| o["focused"] == true) {
            return Err(invalid("the focused option must be given a value".into()));
        }
        let mut options = leaf;
        for def in chain.iter().rev() {
            options = vec![json!({"name": def["name"], "type": def["type"], "options": options})];
        }
        Ok((options, resolved))
    }

    fn option_value(
        &self,
        def: &Value,
        value: &Value,
        focused: bool,
        guild: Option<u64>,
        resolved: &mut Value,
    ) -> Result<Value, SimError> {
        let name = def["name"].clone();
        let kind = def["type"].as_u64().unwrap_or(3);
        if focused {
            if def["autocomplete"].as_bool() != Some(true) {
                return Err(invalid(format!("option {name} has no autocomplete")));
            }
            // The client sends what is typed so far, as a string.
            let typed = value.as_str().map_or_else(|| value.to_string(), String::from);
            return Ok(json!({"name": name, "type": kind, "value": typed, "focused": true}));
        }
        let bad = || invalid(format!("option {name} cannot take {value}"));
        let typed = match kind {
            3 => Value::from(value.as_str().ok_or_else(bad)?),
            4 => Value::from(value.as_i64().ok_or_else(bad)?),
            5 => Value::from(value.as_bool().ok_or_else(bad)?),
            10 => Value::from(value.as_f64().ok_or_else(bad)?),
            6..=9 => {
                let id = id_of(value).ok_or_else(bad)?;
                self.resolve(kind, id, guild, resolved).ok_or_else(bad)?;
                Value::from(id.to_string())
            }
            _ => return Err(invalid(format!("option {name} has a type the sim cannot fill"))),
        };
        // Fixed choices bind the user; an empty list (poise sends one) does not.
        if let Some(choices) = def["choices"].as_array().filter(|c| !c.is_empty())
            && !choices.iter().any(|c| c["value"] == typed)
        {
            return Err(invalid(format!("{typed} is not a choice of option {name}")));
        }
        Ok(json!({"name": name, "type": kind, "value": typed}))
    }

    /// Adds a user/channel/role to `resolved`, as Discord does for options.
    fn resolve(&self, kind: u64, id: u64, guild: Option<u64>, resolved: &mut Value) -> Option<()> {
        let key = id.to_string();
        let guild = guild.and_then(|g| self.guilds.get(&g));
        let as_user = |resolved: &mut Value| -> Option<()> {
            let u = self.users.get(&id)?;
            resolved["users"][&key] = user(u);
            if let Some(m) = guild.and_then(|g| g.members.get(&id)) {
                let mut partial = member(m, u, false);
                partial["permissions"] = Value::from("0");
                resolved["members"][&key] = partial;
            }
            Some(())
        };
        let as_role = |resolved: &mut Value| -> Option<()> {
            resolved["roles"][&key] = role(guild?.role(id)?);
            Some(())
        };
        match kind {
            6 => as_user(resolved),
            7 => {
                let c = self.channels.get(&id)?;
                let mut v = channel(self, c);
                v["permissions"] = Value::from("0");
                resolved["channels"][&key] = v;
                Some(())
            }
            8 => as_role(resolved),
            _ => as_user(resolved).or_else(|| as_role(resolved)),
        }
    }
}
