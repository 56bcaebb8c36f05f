//! Which prompt a couple gets on a given occurrence. Pure: the history and a
//! seeded random source go in, a choice comes out.
//!
//! Rules (DESIGN.md): pillars least recently used first; no prompt repeated for a
//! partner before every prompt of its pillar and kind that fits that partner has
//! been used; never nothing while anything fits; depth ramps over the first
//! weeks; each partner gets prompts worded for them and for the couple's phase;
//! both partners get the same prompt when one fits both.

use std::collections::{HashMap, HashSet};

use rand::Rng;
use rand::seq::{IndexedRandom, SliceRandom};

use super::model::{Audience, Depth, Kind, Phase, Role, Slot};
use super::prompts::{Library, Prompt};

/// A past delivery, as selection needs to know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Past {
    pub pillar: String,
    /// The prompt each partner got, by slot.
    pub prompts: [String; 2],
}

/// What the couple gets this time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub pillar: String,
    pub kind: Kind,
    /// The prompt for each partner, by slot; the same id when one fits both.
    pub prompts: [String; 2],
}

/// Everything about the couple that selection depends on.
#[derive(Debug, Clone, Copy)]
pub struct Couple {
    pub roles: [Role; 2],
    pub phase: Phase,
    pub depth: Depth,
}

/// Whether a prompt may be offered to a partner with this role, in this phase,
/// at this depth. The simulator checks the no-repeat rule against this.
pub fn fits(prompt: &Prompt, role: Role, couple: &Couple) -> bool {
    prompt.phases.contains(&couple.phase)
        && prompt.depth <= couple.depth
        && (prompt.audience == Audience::Both || Some(prompt.audience) == role.audience())
}

/// A partner's rounds through the library: for each pillar and kind, the prompts
/// used since that pillar's prompts of that kind last ran out for them, and when
/// each prompt was last used.
struct Rounds<'h> {
    used: HashMap<(&'h str, Kind), HashSet<&'h str>>,
    last_use: HashMap<&'h str, usize>,
}

impl<'h> Rounds<'h> {
    /// Derived from the history (oldest first). A repeat only ever follows
    /// exhaustion, so it starts a new round.
    fn of(library: &Library, history: &'h [Past], slot: Slot) -> Rounds<'h> {
        let mut rounds = Rounds { used: HashMap::new(), last_use: HashMap::new() };
        for (i, past) in history.iter().enumerate() {
            let id = past.prompts[slot.index()].as_str();
            // A prompt a host has since removed no longer takes part.
            let Some(kind) = library.prompt(id).map(|p| p.kind) else { continue };
            let set = rounds.used.entry((past.pillar.as_str(), kind)).or_default();
            if !set.insert(id) {
                set.clear();
                set.insert(id);
            }
            rounds.last_use.insert(id, i);
        }
        rounds
    }

    /// What fits this reader in the pillar and kind and is new to them this round.
    fn fresh<'l>(&self, fitting: &[&'l Prompt], pillar: &str, kind: Kind) -> Vec<&'l Prompt> {
        let used = self.used.get(&(pillar, kind));
        fitting.iter().copied().filter(|p| used.is_none_or(|u| !u.contains(p.id.as_str()))).collect()
    }

    /// The prompts that fit, least recently used first: where a new round starts.
    fn least_recent<'l>(&self, fitting: &[&'l Prompt]) -> Vec<&'l Prompt> {
        let oldest = fitting.iter().filter_map(|p| self.last_use.get(p.id.as_str())).min();
        fitting.iter().copied().filter(|p| self.last_use.get(p.id.as_str()) == oldest).collect()
    }
}

/// Picks the prompts for one occurrence, or `None` when the library has nothing
/// that fits this couple at all.
///
/// Pillars least recently used first, today's kinds in order, and only prompts
/// new to each reader; when nothing new forms a pair anywhere, a reader who has
/// had everything that fits of a kind starts a new round with what they had
/// longest ago. So a couple is never left without a prompt, and nobody sees a
/// repeat while something that fits them is still new.
pub fn pick_prompt(library: &Library, couple: &Couple, history: &[Past], rng: &mut impl Rng) -> Option<Choice> {
    let rounds = Slot::BOTH.map(|s| Rounds::of(library, history, s));
    let mut pillars: Vec<&str> = library.pillars().iter().map(|p| p.id.as_str()).collect();
    pillars.shuffle(rng);
    let last_used: HashMap<&str, usize> = history.iter().enumerate().map(|(i, p)| (p.pillar.as_str(), i)).collect();
    // Never used first, then least recently used; the shuffle breaks ties.
    pillars.sort_by_key(|p| last_used.get(p).map_or(0, |i| i + 1));
    let kinds = kinds_for_today(rng);

    for new_round in [false, true] {
        for &pillar in &pillars {
            for &kind in &kinds {
                let candidates = Slot::BOTH.map(|slot| {
                    let fitting: Vec<&Prompt> = library
                        .in_pillar(pillar)
                        .filter(|p| p.kind == kind && fits(p, couple.roles[slot.index()], couple))
                        .collect();
                    let rounds = &rounds[slot.index()];
                    match rounds.fresh(&fitting, pillar, kind) {
                        fresh if fresh.is_empty() && new_round => rounds.least_recent(&fitting),
                        fresh => fresh,
                    }
                });
                if let Some(prompts) = choose_pair(&candidates, rng) {
                    return Some(Choice { pillar: pillar.to_string(), kind, prompts });
                }
            }
        }
    }
    None
}

/// Whether the day's prompts are each partner's own: different prompts, or one
/// worded for a reader's private role. Then each partner reads only theirs, and
/// nothing mend shows lets the other guess a role.
pub fn is_personal(library: &Library, prompts: &[String; 2]) -> bool {
    prompts[0] != prompts[1] || prompts.iter().any(|id| library.prompt(id).is_none_or(|p| p.audience != Audience::Both))
}

/// Shared prompts most days, a small action some days, a private journal now and
/// then; the rest follow as fallbacks.
fn kinds_for_today(rng: &mut impl Rng) -> [Kind; 3] {
    match rng.random_range(0..20) {
        0..12 => [Kind::Shared, Kind::Action, Kind::Journal],
        12..17 => [Kind::Action, Kind::Shared, Kind::Journal],
        _ => [Kind::Journal, Kind::Shared, Kind::Action],
    }
}

/// Prompts worded for one partner's role rather than for both.
fn worded<'a>(candidates: &[&'a Prompt]) -> Vec<&'a Prompt> {
    candidates.iter().copied().filter(|p| p.audience != Audience::Both).collect()
}

fn choose_pair(candidates: &[Vec<&Prompt>; 2], rng: &mut impl Rng) -> Option<[String; 2]> {
    if candidates.iter().any(Vec::is_empty) {
        return None;
    }
    let [worded_a, worded_b] = [worded(&candidates[0]), worded(&candidates[1])];
    // Now and then, when both partners have prompts worded for them, give each
    // their own; their answers are still revealed together.
    if !worded_a.is_empty() && !worded_b.is_empty() && rng.random_bool(0.35) {
        let a = worded_a.choose(rng)?;
        let b = worded_b.choose(rng)?;
        return Some([a.id.clone(), b.id.clone()]);
    }
    let common: Vec<&Prompt> = candidates[0]
        .iter()
        .copied()
        .filter(|p| p.audience == Audience::Both && candidates[1].iter().any(|q| q.id == p.id))
        .collect();
    if let Some(p) = common.choose(rng) {
        return Some([p.id.clone(), p.id.clone()]);
    }
    let a = candidates[0].choose(rng)?;
    let b = candidates[1].choose(rng)?;
    Some([a.id.clone(), b.id.clone()])
}

/// Today's small action to show beside a written prompt: an action of the same
/// pillar worded for both and fitting the couple's phase, chosen by `n` so the
/// same delivery always shows the same one.
pub fn small_action<'a>(library: &'a Library, pillar: &'a str, phase: Phase, n: u64) -> Option<&'a Prompt> {
    let actions: Vec<&Prompt> = library
        .in_pillar(pillar)
        .filter(|p| p.kind == Kind::Action && p.audience == Audience::Both && p.phases.contains(&phase))
        .collect();
    (!actions.is_empty()).then(|| actions[(n % actions.len() as u64) as usize])
}
