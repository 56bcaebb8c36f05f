//! Route keys and patterns. A request path (below `/api/v10`) maps to a
//! template with placeholders and a "major parameter", the unit Discord
//! buckets rate limits by (channel, guild, webhook + token, interaction).

/// The identity of a request for rate limiting and fault matching.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct RouteKey {
    pub method: String,
    /// The path below `/api/v10`, e.g. `/channels/123/messages`.
    pub path: String,
    /// e.g. `POST /channels/{channel_id}/messages`.
    pub template: String,
    /// e.g. `123`, or `webhook_id/token`.
    pub major: String,
}

impl RouteKey {
    pub fn new(method: &str, path: &str) -> Self {
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let mut template = vec![];
        let mut major = String::new();
        let mut i = 0;
        while i < segments.len() {
            let seg = segments[i];
            let previous = i.checked_sub(1).map(|p| segments[p]);
            let numeric = !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit());
            match previous {
                Some("channels" | "guilds") if numeric && major.is_empty() => {
                    major = seg.to_owned();
                    template.push(format!("{{{}_id}}", previous.unwrap_or_default().trim_end_matches('s')));
                }
                Some("webhooks" | "interactions") if numeric => {
                    let token = segments.get(i + 1).copied().unwrap_or_default();
                    major = format!("{seg}/{token}");
                    template.push("{id}".into());
                    if i + 1 < segments.len() {
                        template.push("{token}".into());
                        i += 1;
                    }
                }
                _ if numeric => template.push("{id}".into()),
                _ => template.push(seg.to_owned()),
            }
            i += 1;
        }
        Self {
            method: method.to_owned(),
            path: path.to_owned(),
            template: format!("{method} /{}", template.join("/")),
            major,
        }
    }

    /// Interaction callbacks and followup webhooks: no bot token needed, and
    /// exempt from the global rate limit.
    pub fn is_interaction(&self) -> bool {
        self.path.starts_with("/interactions/") || self.path.starts_with("/webhooks/")
    }

    /// A short stable id for `X-RateLimit-Bucket` (FNV-1a of the template).
    pub fn bucket_hash(&self) -> String {
        let hash = self
            .template
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
        format!("{hash:016x}")
    }
}

/// A route pattern: `[METHOD ]/segments`, where `*` matches one segment and a
/// trailing `**` any rest. `POST /channels/*/messages`, `/webhooks/**`.
pub(crate) fn matches(pattern: &str, key: &RouteKey) -> bool {
    let (method, path) = match pattern.split_once(' ') {
        Some((m, p)) => (Some(m), p.trim()),
        None => (None, pattern.trim()),
    };
    if method.is_some_and(|m| m != "*" && !m.eq_ignore_ascii_case(&key.method)) {
        return false;
    }
    let want: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let have: Vec<&str> = key.path.split('/').filter(|s| !s.is_empty()).collect();
    for (i, w) in want.iter().enumerate() {
        if *w == "**" {
            return true;
        }
        match have.get(i) {
            Some(h) if *w == "*" || w == h => {}
            _ => return false,
        }
    }
    want.len() == have.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_and_major_parameters() {
        let k = RouteKey::new("POST", "/channels/123/messages");
        assert_eq!(k.template, "POST /channels/{channel_id}/messages");
        assert_eq!(k.major, "123");
        let k = RouteKey::new("PATCH", "/webhooks/9/tok-en/messages/@original");
        assert_eq!(k.template, "PATCH /webhooks/{id}/{token}/messages/@original");
        assert_eq!(k.major, "9/tok-en");
        assert!(k.is_interaction());
        let k = RouteKey::new("PUT", "/channels/1/permissions/2");
        assert_eq!(k.template, "PUT /channels/{channel_id}/permissions/{id}");
        assert_eq!(RouteKey::new("GET", "/guilds/5/members/6").template, "GET /guilds/{guild_id}/members/{id}");
    }

    #[test]
    fn patterns() {
        let k = RouteKey::new("POST", "/channels/123/messages");
        assert!(matches("POST /channels/*/messages", &k));
        assert!(matches("/channels/*/messages", &k));
        assert!(matches("* /channels/**", &k));
        assert!(!matches("GET /channels/*/messages", &k));
        assert!(!matches("POST /channels/*", &k));
        assert!(matches("POST /channels/123/messages", &k));
    }
}
