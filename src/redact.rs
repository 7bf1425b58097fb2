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

/// True when a query parameter of this name carries a secret. The name is read as a
/// server reads it: percent-decoded (`api%4Bey` is `apiKey`).
pub fn is_secret(name: &str) -> bool {
    let squashed: String = percent_decoded(name)
        .chars()
        .filter(|c| *c != '-' && *c != '_')
        .flat_map(char::to_lowercase)
        .collect();
    SECRET_WORDS.iter().any(|word| squashed.contains(word))
}

/// The URL (or path with a query) with its user name and password and every secret
/// parameter's value redacted. Parameters count wherever a server or a client might
/// read one: after `?`, `&` or `;`, and in the fragment after `#` too.
pub fn url(text: &str) -> String {
    let text = without_userinfo(text);
    let path_end = text.find(['?', '#']).unwrap_or(text.len());
    let mut out = text[..path_end].to_string();
    let mut pieces = text[path_end..]
        .split_inclusive(['?', '&', ';', '#'])
        .peekable();
    // Each piece is a separator's parameter and the next separator: `?apiKey=x&`.
    if let Some(first) = pieces.peek()
        && first.len() == 1
    {
        out.push_str(first);
        pieces.next();
    }
    for piece in pieces {
        let (pair, separator) = match piece.char_indices().last() {
            Some((i, c)) if "?&;#".contains(c) => piece.split_at(i),
            _ => (piece, ""),
        };
        match pair.split_once('=') {
            Some((name, _)) if is_secret(name) => {
                out.push_str(name);
                out.push('=');
                out.push_str(REDACTED);
            }
            _ => out.push_str(pair),
        }
        out.push_str(separator);
    }
    out
}

/// `scheme://user:pass@host…` as `scheme://REDACTED@host…`, and the same for the
/// loose forms a URL parser still reads as credentials (`http:\\user:pass@host`,
/// `http:user:pass@host`); anything else unchanged.
fn without_userinfo(text: &str) -> String {
    let Some(colon) = text.find(':') else {
        return text.to_string();
    };
    let scheme = &text[..colon];
    let is_scheme = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c));
    if !is_scheme {
        return text.to_string();
    }
    let after = &text[colon + 1..];
    let authority_start = text.len() - after.trim_start_matches(['/', '\\']).len();
    let rest = &text[authority_start..];
    let authority_end = rest.find(['/', '\\', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}{REDACTED}{}", &text[..authority_start], &rest[at..]),
        None => text.to_string(),
    }
}

/// `%XX` sequences decoded (invalid ones kept as they are).
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
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
        for loose in [
            "http:\\\\user:s3cret@127.0.0.1:9/",
            "http:/user:s3cret@127.0.0.1:9/",
            "http:user:s3cret@127.0.0.1:9/",
        ] {
            assert!(!url(loose).contains("s3cret"), "{}", url(loose));
        }
        assert_eq!(url("localhost:8080/x"), "localhost:8080/x");
    }

    #[test]
    fn parameters_are_redacted_after_any_separator() {
        for text in [
            "http://h/?x=1#frag&apiKey=s3cret",
            "http://h/#apiKey=s3cret x",
            "http://h/?x=1;apiKey=s3cret",
            "http://h/?api%4Bey=s3cret",
            "/a?x=1&&token=s3cret&",
        ] {
            assert!(!url(text).contains("s3cret"), "{text}: {}", url(text));
        }
        assert_eq!(url("/a?x=1&y=2#top"), "/a?x=1&y=2#top");
        assert_eq!(url("/a?"), "/a?");
        assert_eq!(url("/a?apiKey=k#f"), "/a?apiKey=REDACTED#f");
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
