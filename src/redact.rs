//! Secrets in URLs: the tutorials pass API keys in query strings (`apiKey=…`,
//! `api-key=…`). Nothing fanout prints, logs or writes to a report may contain such a
//! value: every URL shown to a person goes through [`url()`] first.
//!
//! A parameter is secret when its name, lower-cased and without `-` and `_`, contains
//! one of `key`, `token`, `secret`, `password`, `passwd`, `auth`, `signature` or `sig`.
//! Its value becomes `REDACTED`; the name stays, so a reader still sees what was sent.
//! A user name and password before the host (`http://user:pass@host/`) become
//! `REDACTED` too, whole.

/// What a secret value is replaced with.
pub const REDACTED: &str = "REDACTED";

const SECRET_WORDS: [&str; 8] = [
    "key",
    "token",
    "secret",
    "password",
    "passwd",
    "auth",
    "signature",
    "sig",
];

/// True when a query parameter of this name carries a secret.
pub fn is_secret(name: &str) -> bool {
    let squashed: String = name
        .chars()
        .filter(|c| *c != '-' && *c != '_')
        .flat_map(char::to_lowercase)
        .collect();
    SECRET_WORDS.iter().any(|word| squashed.contains(word))
}

/// The URL (or path with a query) with its user name and password and every secret
/// parameter's value redacted.
pub fn url(text: &str) -> String {
    let text = &without_userinfo(text);
    let Some((before, rest)) = text.split_once('?') else {
        return text.to_string();
    };
    let (query, fragment) = match rest.split_once('#') {
        Some((q, f)) => (q, Some(f)),
        None => (rest, None),
    };
    let redacted: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if is_secret(name) => format!("{name}={REDACTED}"),
            _ => pair.to_string(),
        })
        .collect();
    let mut out = format!("{before}?{}", redacted.join("&"));
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

/// `scheme://user:pass@host…` as `scheme://REDACTED@host…`; anything else unchanged.
fn without_userinfo(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else {
        return text.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://{REDACTED}{}", &rest[at..]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_the_tutorials_key_parameters_and_keeps_the_rest() {
        assert_eq!(
            url("https://newsapi.org/v2/top-headlines?country=us&apiKey=abc123"),
            "https://newsapi.org/v2/top-headlines?country=us&apiKey=REDACTED"
        );
        assert_eq!(
            url("/search?api-key=s3cr3t&q=rust#top"),
            "/search?api-key=REDACTED&q=rust#top"
        );
        assert_eq!(
            url("/items?seq=4&access_token=x"),
            "/items?seq=4&access_token=REDACTED"
        );
        assert_eq!(url("/items?seq=4"), "/items?seq=4");
        assert_eq!(url("/plain/path"), "/plain/path");
    }

    #[test]
    fn redacts_credentials_before_the_host() {
        assert_eq!(
            url("http://user:hunter2@127.0.0.1:9/a?apiKey=k"),
            "http://REDACTED@127.0.0.1:9/a?apiKey=REDACTED"
        );
        assert_eq!(url("http://hunter2@host/"), "http://REDACTED@host/");
        assert_eq!(url("http://host/a@b"), "http://host/a@b");
    }

    #[test]
    fn names_are_matched_loosely() {
        for name in [
            "apiKey",
            "API_KEY",
            "client-secret",
            "Authorization",
            "sig",
            "pass_word",
        ] {
            assert!(is_secret(name), "{name}");
        }
        for name in ["seq", "country", "q", "page"] {
            assert!(!is_secret(name), "{name}");
        }
    }
}
