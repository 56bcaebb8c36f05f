//! The words of the domain: small enums with one spelling each, shared by the
//! prompt files, the database and the command line.

/// Declares a string-backed enum: one spelling for files, SQL and the CLI.
macro_rules! spelled_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!(
                        concat!("unknown ", $what, " `{}` (one of: {})"),
                        other,
                        [$($text),+].join(", ")
                    )),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <String as ::serde::Deserialize>::deserialize(d)?;
                s.parse().map_err(::serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use spelled_enum;

spelled_enum!(
    /// What a prompt asks for.
    Kind, "kind" {
        Shared => "shared",
        Journal => "journal",
        Action => "action",
    }
);

spelled_enum!(
    /// Whom a prompt is worded for.
    Audience, "audience" {
        Both => "both",
        Hurt => "hurt",
        Repairing => "repairing",
        Drifted => "drifted",
    }
);

spelled_enum!(
    /// How vulnerable a prompt asks its reader to be.
    Depth, "depth" {
        Light => "light",
        Medium => "medium",
        Deep => "deep",
    }
);

spelled_enum!(
    /// Where a couple is in repair (Gottman's Atone → Attune → Attach).
    Phase, "phase" {
        Atone => "atone",
        Attune => "attune",
        Attach => "attach",
    }
);

spelled_enum!(
    /// How a partner comes to mend, said privately by that partner. It shapes
    /// wording, never blame.
    Role, "role" {
        Hurt => "hurt",
        Repairing => "repairing",
        Drifted => "drifted",
        Unsaid => "unsaid",
    }
);

spelled_enum!(
    /// Which schedule of a couple.
    ScheduleKind, "schedule kind" {
        Prompt => "prompt",
        Reflection => "reflection",
    }
);

impl Role {
    /// The prompt audience worded for this partner, besides `both`.
    pub fn audience(self) -> Option<Audience> {
        match self {
            Role::Hurt => Some(Audience::Hurt),
            Role::Repairing => Some(Audience::Repairing),
            Role::Drifted => Some(Audience::Drifted),
            Role::Unsaid => None,
        }
    }
}

impl Phase {
    /// Where a couple starts: after a betrayal with responsibility and honesty,
    /// after drifting apart with understanding.
    pub fn starting(roles: [Role; 2]) -> Phase {
        if roles.iter().any(|r| matches!(r, Role::Hurt | Role::Repairing)) { Phase::Atone } else { Phase::Attune }
    }

    pub fn next(self) -> Option<Phase> {
        match self {
            Phase::Atone => Some(Phase::Attune),
            Phase::Attune => Some(Phase::Attach),
            Phase::Attach => None,
        }
    }

    pub fn previous(self) -> Option<Phase> {
        match self {
            Phase::Atone => None,
            Phase::Attune => Some(Phase::Atone),
            Phase::Attach => Some(Phase::Attune),
        }
    }
}

impl Depth {
    /// The deepest prompt a couple is offered after `days` together on mend: light
    /// for the first two weeks, medium until the fourth, then all.
    pub fn ramp(days: i64) -> Depth {
        match days {
            ..14 => Depth::Light,
            14..28 => Depth::Medium,
            _ => Depth::Deep,
        }
    }
}

/// One of the two partners of a couple. Slot 0 is whoever started the pairing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Slot(u8);

impl TryFrom<u8> for Slot {
    type Error = String;
    fn try_from(i: u8) -> Result<Slot, String> {
        Slot::from_index(i64::from(i)).ok_or_else(|| format!("slot {i}"))
    }
}

impl From<Slot> for u8 {
    fn from(s: Slot) -> u8 {
        s.0
    }
}

impl Slot {
    pub const A: Slot = Slot(0);
    pub const B: Slot = Slot(1);
    pub const BOTH: [Slot; 2] = [Slot::A, Slot::B];

    pub fn index(self) -> usize {
        self.0 as usize
    }

    pub fn other(self) -> Slot {
        Slot(1 - self.0)
    }

    pub fn from_index(i: i64) -> Option<Slot> {
        match i {
            0 => Some(Slot::A),
            1 => Some(Slot::B),
            _ => None,
        }
    }
}
