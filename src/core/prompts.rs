//! The prompt library: one TOML file per pillar in `prompts/`, plus any extra
//! directories a host adds. Parsing is lenient so that `check` can name every
//! problem with its file and prompt instead of stopping at the first.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::model::{Audience, Depth, Kind, Phase};

/// A Discord embed description holds at most this many characters.
pub const MAX_TEXT_CHARS: usize = 4096;

/// The ten pillars, in the order DESIGN.md lists them: (id, name, group).
pub const PILLARS: [(&str, &str, &str); 10] = [
    ("taking-responsibility", "Taking Responsibility", "what it really takes"),
    ("openness-transparency", "Openness & Transparency", "what it really takes"),
    ("emotional-repair", "Emotional Repair", "what it really takes"),
    ("patience-time", "Patience & Time", "what it really takes"),
    ("guided-support", "Guided Support", "what it really takes"),
    ("turning-toward", "Turning Toward Each Other", "small daily actions"),
    ("honest-communication", "Clear and Honest Communication", "small daily actions"),
    ("consistency-follow-through", "Consistency and Follow-Through", "small daily actions"),
    ("reconnection", "Physical and Emotional Reconnection", "small daily actions"),
    ("being-present", "Being Fully Present", "small daily actions"),
];

/// The prompt files of `prompts/`, built into the binary so that mend runs from
/// any directory.
const BUILTIN: [(&str, &str); 10] = [
    ("prompts/taking-responsibility.toml", include_str!("../../prompts/taking-responsibility.toml")),
    ("prompts/openness-transparency.toml", include_str!("../../prompts/openness-transparency.toml")),
    ("prompts/emotional-repair.toml", include_str!("../../prompts/emotional-repair.toml")),
    ("prompts/patience-time.toml", include_str!("../../prompts/patience-time.toml")),
    ("prompts/guided-support.toml", include_str!("../../prompts/guided-support.toml")),
    ("prompts/turning-toward.toml", include_str!("../../prompts/turning-toward.toml")),
    ("prompts/honest-communication.toml", include_str!("../../prompts/honest-communication.toml")),
    ("prompts/consistency-follow-through.toml", include_str!("../../prompts/consistency-follow-through.toml")),
    ("prompts/reconnection.toml", include_str!("../../prompts/reconnection.toml")),
    ("prompts/being-present.toml", include_str!("../../prompts/being-present.toml")),
];

/// Words that have no place in a prompt: trust is rebuilt by what is offered, not
/// by surveillance, proof or keeping score.
const FORBIDDEN_WORDS: [&str; 11] =
    ["password", "passcode", "location", "track", "tracking", "proof", "prove", "streak", "score", "spy", "surveil"];

/// A pillar of trust repair, as the library describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pillar {
    pub id: String,
    pub name: String,
    pub group: String,
    /// 0xRRGGBB, for the embed colour.
    pub colour: u32,
    pub blurb: String,
}

/// One prompt. Its id is stable: history refers to it across edits of the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub id: String,
    pub pillar: String,
    pub kind: Kind,
    pub audience: Audience,
    pub depth: Depth,
    pub phases: Vec<Phase>,
    pub text: String,
}

/// Something wrong in a prompt file, located for the person who will fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: PathBuf,
    /// The prompt's id, or its position in the file when the id is missing.
    pub prompt: Option<String>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.prompt {
            Some(p) => write!(f, "{}: prompt {}: {}", self.file.display(), p, self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

/// All prompts mend can choose from.
#[derive(Debug, Clone, Default)]
pub struct Library {
    pillars: Vec<Pillar>,
    prompts: Vec<Prompt>,
    by_id: HashMap<String, usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    pillar: Option<String>,
    name: Option<String>,
    group: Option<String>,
    colour: Option<String>,
    blurb: Option<String>,
    #[serde(default)]
    prompt: Vec<RawPrompt>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrompt {
    id: Option<String>,
    kind: Option<String>,
    audience: Option<String>,
    depth: Option<String>,
    #[serde(default)]
    phases: Vec<String>,
    text: Option<String>,
}

impl Library {
    /// Loads every `*.toml` in the given directories (later ones add prompts to the
    /// pillars of earlier ones). Any problem fails the whole load.
    pub fn load(dirs: &[PathBuf]) -> Result<Library, Vec<Problem>> {
        let (library, problems) = Library::check(dirs);
        if problems.is_empty() { Ok(library) } else { Err(problems) }
    }

    /// Reads the directories and returns what could be read together with every
    /// problem found.
    pub fn check(dirs: &[PathBuf]) -> (Library, Vec<Problem>) {
        let mut library = Library::default();
        let mut problems = Vec::new();
        let mut seen_ids: HashMap<String, PathBuf> = HashMap::new();
        for dir in dirs {
            let files = match toml_files(dir) {
                Ok(files) => files,
                Err(message) => {
                    problems.push(Problem { file: dir.clone(), prompt: None, message });
                    continue;
                }
            };
            for file in files {
                library.read_file(&file, &mut seen_ids, &mut problems);
            }
        }
        if library.prompts.is_empty() && problems.is_empty() {
            let file = dirs.first().cloned().unwrap_or_default();
            problems.push(Problem { file, prompt: None, message: "no prompts found".into() });
        }
        (library, problems)
    }

    /// The library that ships inside the binary (the files of `prompts/`), plus
    /// the host's extra directories.
    pub fn builtin_with(extra: &[PathBuf]) -> Result<Library, Vec<Problem>> {
        let mut library = Library::default();
        let mut problems = Vec::new();
        let mut seen = HashMap::new();
        for (name, text) in BUILTIN {
            library.read_source(Path::new(name), Ok(text.to_string()), &mut seen, &mut problems);
        }
        for dir in extra {
            match toml_files(dir) {
                Ok(files) => {
                    for file in files {
                        library.read_file(&file, &mut seen, &mut problems);
                    }
                }
                Err(message) => problems.push(Problem { file: dir.clone(), prompt: None, message }),
            }
        }
        if problems.is_empty() { Ok(library) } else { Err(problems) }
    }

    /// Checks one prompt file given as text (named `name` in problems).
    pub fn check_source(name: &str, text: &str) -> (Library, Vec<Problem>) {
        let mut library = Library::default();
        let mut problems = Vec::new();
        library.read_source(Path::new(name), Ok(text.to_string()), &mut HashMap::new(), &mut problems);
        (library, problems)
    }

    fn read_file(&mut self, file: &Path, seen: &mut HashMap<String, PathBuf>, problems: &mut Vec<Problem>) {
        let text = std::fs::read_to_string(file).map_err(|e| e.to_string());
        self.read_source(file, text, seen, problems);
    }

    fn read_source(
        &mut self,
        file: &Path,
        text: Result<String, String>,
        seen: &mut HashMap<String, PathBuf>,
        problems: &mut Vec<Problem>,
    ) {
        let mut problem = |prompt: Option<String>, message: String| {
            problems.push(Problem { file: file.to_path_buf(), prompt, message });
        };
        let raw: RawFile = match text.and_then(|text| toml::from_str(&text).map_err(|e| e.message().to_string())) {
            Ok(raw) => raw,
            Err(e) => return problem(None, format!("cannot be read: {e}")),
        };
        let Some(pillar_id) = raw.pillar else {
            return problem(None, "names no `pillar`".into());
        };
        let Some(&(_, default_name, default_group)) = PILLARS.iter().find(|p| p.0 == pillar_id) else {
            let known: Vec<&str> = PILLARS.iter().map(|p| p.0).collect();
            return problem(None, format!("unknown pillar `{pillar_id}` (known: {})", known.join(", ")));
        };
        if !self.pillars.iter().any(|p| p.id == pillar_id) {
            let colour = match raw.colour.as_deref().map(parse_colour) {
                Some(Some(c)) => c,
                Some(None) => {
                    problem(None, "`colour` must look like \"#B5523B\"".into());
                    0x7f8c8d
                }
                None => 0x7f8c8d,
            };
            self.pillars.push(Pillar {
                id: pillar_id.clone(),
                name: raw.name.unwrap_or_else(|| default_name.into()),
                group: raw.group.unwrap_or_else(|| default_group.into()),
                colour,
                blurb: raw.blurb.unwrap_or_default(),
            });
        }
        for (index, raw) in raw.prompt.into_iter().enumerate() {
            let label = raw.id.clone().unwrap_or_else(|| format!("#{} (no id)", index + 1));
            match validate(raw, &pillar_id) {
                Ok(prompt) => {
                    if let Some(first) = seen.get(&prompt.id) {
                        problem(Some(label), format!("duplicate id, first used in {}", first.display()));
                        continue;
                    }
                    seen.insert(prompt.id.clone(), file.to_path_buf());
                    self.by_id.insert(prompt.id.clone(), self.prompts.len());
                    self.prompts.push(prompt);
                }
                Err(messages) => messages.into_iter().for_each(|m| problem(Some(label.clone()), m)),
            }
        }
    }

    pub fn pillars(&self) -> &[Pillar] {
        &self.pillars
    }

    pub fn pillar(&self, id: &str) -> Option<&Pillar> {
        self.pillars.iter().find(|p| p.id == id)
    }

    pub fn prompts(&self) -> &[Prompt] {
        &self.prompts
    }

    pub fn prompt(&self, id: &str) -> Option<&Prompt> {
        self.by_id.get(id).map(|&i| &self.prompts[i])
    }

    pub fn in_pillar<'a>(&'a self, pillar: &'a str) -> impl Iterator<Item = &'a Prompt> + 'a {
        self.prompts.iter().filter(move |p| p.pillar == pillar)
    }

    /// Counts per pillar, for `prompts check` and the coverage test.
    pub fn coverage(&self) -> BTreeMap<String, Coverage> {
        let mut out: BTreeMap<String, Coverage> = BTreeMap::new();
        for p in &self.prompts {
            let c = out.entry(p.pillar.clone()).or_default();
            c.total += 1;
            *c.depths.entry(p.depth).or_default() += 1;
            *c.audiences.entry(p.audience).or_default() += 1;
            *c.kinds.entry(p.kind).or_default() += 1;
            for phase in &p.phases {
                *c.phases.entry(*phase).or_default() += 1;
            }
        }
        out
    }
}

/// How many prompts of each sort a pillar has.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    pub total: usize,
    pub depths: BTreeMap<Depth, usize>,
    pub audiences: BTreeMap<Audience, usize>,
    pub kinds: BTreeMap<Kind, usize>,
    pub phases: BTreeMap<Phase, usize>,
}

fn toml_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot read the directory: {e}"))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    Ok(files)
}

fn parse_colour(s: &str) -> Option<u32> {
    let hex = s.strip_prefix('#')?;
    (hex.len() == 6).then(|| u32::from_str_radix(hex, 16).ok()).flatten()
}

fn validate(raw: RawPrompt, pillar: &str) -> Result<Prompt, Vec<String>> {
    let mut errors = Vec::new();
    let id = raw.id.unwrap_or_default();
    if id.trim().is_empty() {
        errors.push("has no `id`".into());
    } else if !id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')) || id.len() > 64 {
        errors.push("`id` may hold only letters, digits, `.`, `-` and `_` (at most 64)".into());
    }
    let kind = field(raw.kind, "kind", &mut errors);
    let audience = field(raw.audience, "audience", &mut errors);
    let depth = field(raw.depth, "depth", &mut errors);
    let mut phases = Vec::new();
    for p in &raw.phases {
        match p.parse::<Phase>() {
            Ok(phase) if !phases.contains(&phase) => phases.push(phase),
            Ok(_) => errors.push(format!("phase `{p}` is listed twice")),
            Err(e) => errors.push(e),
        }
    }
    if raw.phases.is_empty() {
        errors.push("names no `phases` (one or more of atone, attune, attach)".into());
    }
    let text = raw.text.unwrap_or_default().trim().to_string();
    let chars = text.chars().count();
    if text.is_empty() {
        errors.push("has an empty `text`".into());
    } else if chars > MAX_TEXT_CHARS {
        errors.push(format!("`text` is {chars} characters; a Discord embed holds {MAX_TEXT_CHARS}"));
    }
    let words: HashSet<String> = text.split(|c: char| !c.is_alphanumeric()).map(|w| w.to_lowercase()).collect();
    for word in FORBIDDEN_WORDS {
        if words.contains(word) {
            errors.push(format!("`text` uses \"{word}\": prompts never ask for surveillance, proof or keeping score"));
        }
    }
    match (kind, audience, depth) {
        (Some(kind), Some(audience), Some(depth)) if errors.is_empty() => {
            Ok(Prompt { id, pillar: pillar.to_string(), kind, audience, depth, phases, text })
        }
        _ => Err(errors),
    }
}

fn field<T: std::str::FromStr<Err = String>>(value: Option<String>, name: &str, errors: &mut Vec<String>) -> Option<T> {
    match value {
        None => {
            errors.push(format!("has no `{name}`"));
            None
        }
        Some(v) => v.parse().map_err(|e| errors.push(e)).ok(),
    }
}
