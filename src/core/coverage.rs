//! Whether the prompt library is deep enough for every reader: for each reader
//! role and phase, how many prompts fit them, how many of those are light (the
//! first two weeks are light only), and how long a couple of that kind goes
//! before the reader sees a prompt a second time, running the real selection
//! day by day. `mend prompts stats` prints it; `mend prompts check` and the tests
//! fail on a row below the minimums.

use std::collections::HashSet;
use std::fmt;

use rand::SeedableRng;
use rand::rngs::StdRng;

use super::model::{Depth, Phase, Role};
use super::prompts::Library;
use super::select::{self, Past, fits, pick_prompt};

/// Prompts that must fit each reader in each phase (at any depth): about three
/// months of daily prompts before anything comes back.
pub const MIN_FITTING: usize = 90;

/// Light prompts among them: the first two weeks are light only.
pub const MIN_LIGHT: usize = 30;

/// How many days the repeat run looks ahead before it stops.
pub const REPEAT_HORIZON: u32 = 730;

/// Every role a reader can have, in the order the table lists them.
pub const READERS: [Role; 4] = [Role::Hurt, Role::Repairing, Role::Drifted, Role::Unsaid];

/// The partner a reader of this role is paired with in the repeat run: the hurt
/// with the one repairing and back, drifted with drifted, unsaid with unsaid.
pub fn partner_of(reader: Role) -> Role {
    match reader {
        Role::Hurt => Role::Repairing,
        Role::Repairing => Role::Hurt,
        Role::Drifted => Role::Drifted,
        Role::Unsaid => Role::Unsaid,
    }
}

/// When the reader first gets a prompt they had before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeat {
    /// On this day (counted from 0, so it is also how many days had no repeat).
    OnDay(u32),
    /// Not within `REPEAT_HORIZON` days.
    Beyond(u32),
    /// Selection found nothing for the couple on this day (counted from 0).
    Silent(u32),
}

impl fmt::Display for Repeat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Repeat::OnDay(d) => write!(f, "{d}"),
            Repeat::Beyond(d) => write!(f, "more than {d}"),
            Repeat::Silent(d) => write!(f, "none: nothing fits on day {d}"),
        }
    }
}

/// One reader role in one phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    pub reader: Role,
    pub phase: Phase,
    /// Distinct prompts that fit the reader in this phase at the deepest depth.
    pub fitting: usize,
    /// How many of those are light.
    pub light: usize,
    pub repeat: Repeat,
}

impl Row {
    /// What is wrong with this row, as one readable line; `None` when it meets
    /// the minimums.
    pub fn problem(&self) -> Option<String> {
        let mut wrong = Vec::new();
        if self.fitting < MIN_FITTING {
            let verb = if self.fitting == 1 { "prompt fits" } else { "prompts fit" };
            wrong.push(format!("{} {verb} (at least {MIN_FITTING} needed)", self.fitting));
        }
        if self.light < MIN_LIGHT {
            wrong.push(format!("{} of them light (at least {MIN_LIGHT} needed)", self.light));
        }
        if let Repeat::Silent(day) = self.repeat {
            let partner = partner_of(self.reader);
            let article = if partner == Role::Unsaid { "an" } else { "a" };
            wrong.push(format!(
                "nothing fits the reader and {article} {partner} partner on day {day}, so the couple would go silent"
            ));
        }
        (!wrong.is_empty()).then(|| format!("{} reader in {}: {}", self.reader, self.phase, wrong.join("; ")))
    }
}

/// Every reader role × every phase, in table order.
pub fn rows(library: &Library) -> Vec<Row> {
    let mut out = Vec::new();
    for (r, &reader) in READERS.iter().enumerate() {
        for (p, &phase) in Phase::ALL.iter().enumerate() {
            let couple = select::Couple { roles: [reader, partner_of(reader)], phase, depth: Depth::Deep };
            let fitting: Vec<_> = library.prompts().iter().filter(|pr| fits(pr, reader, &couple)).collect();
            let light = fitting.iter().filter(|pr| pr.depth == Depth::Light).count();
            // A fixed seed per row: the table is the same on every run.
            let seed = 0x6d65_6e64_0000 + (r * Phase::ALL.len() + p) as u64;
            let repeat = first_repeat(library, reader, phase, seed);
            out.push(Row { reader, phase, fitting: fitting.len(), light, repeat });
        }
    }
    out
}

/// The rows below the minimums, one readable line each.
pub fn shortfalls(rows: &[Row]) -> Vec<String> {
    rows.iter().filter_map(Row::problem).collect()
}

/// Runs selection day by day for a couple whose first partner has the role
/// `reader`, staying in `phase`, with depth ramping as it does for a new couple,
/// until the reader is given a prompt they had before.
pub fn first_repeat(library: &Library, reader: Role, phase: Phase, seed: u64) -> Repeat {
    let mut rng = StdRng::seed_from_u64(seed);
    let roles = [reader, partner_of(reader)];
    let mut history: Vec<Past> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for day in 0..REPEAT_HORIZON {
        let couple = select::Couple { roles, phase, depth: Depth::ramp(day.into()) };
        let Some(choice) = pick_prompt(library, &couple, &history, &mut rng) else {
            return Repeat::Silent(day);
        };
        if !seen.insert(choice.prompts[0].clone()) {
            return Repeat::OnDay(day);
        }
        history.push(Past { pillar: choice.pillar, prompts: choice.prompts });
    }
    Repeat::Beyond(REPEAT_HORIZON)
}
