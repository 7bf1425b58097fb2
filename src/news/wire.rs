//! What the three APIs send, as far as the aggregator reads it, and how each answer
//! becomes [`Article`]s. Only the fields used are declared: serde skips the rest.

use serde::Deserialize;

use super::{Article, SourceError, unix_to_rfc3339};

/// NewsAPI's `/v2/top-headlines` answer.
#[derive(Deserialize)]
pub(super) struct NewsApiAnswer {
    articles: Vec<NewsApiArticle>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewsApiArticle {
    title: Option<String>,
    url: Option<String>,
    published_at: Option<String>,
}

/// The Guardian's `/search` answer: everything sits under `response`.
#[derive(Deserialize)]
pub(super) struct GuardianAnswer {
    response: GuardianResponse,
}

#[derive(Deserialize)]
struct GuardianResponse {
    results: Vec<GuardianResult>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GuardianResult {
    web_title: String,
    web_url: String,
    web_publication_date: Option<String>,
}

/// One Hacker News item (`/v0/item/{id}.json`); Ask HN posts have no `url`.
#[derive(Deserialize)]
pub(super) struct HackerNewsItem {
    title: Option<String>,
    url: Option<String>,
    time: Option<i64>,
}

/// Parses a body as `T`, naming what was wrong when it is not.
pub(super) fn parse<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, SourceError> {
    serde_json::from_slice(body).map_err(|e| SourceError::Json(e.to_string()))
}

impl NewsApiAnswer {
    pub(super) fn into_articles(self, source: &str) -> Vec<Article> {
        self.articles
            .into_iter()
            .filter_map(|a| {
                Some(Article {
                    source: source.to_string(),
                    title: a.title.unwrap_or_else(|| "(no title)".to_string()),
                    url: a.url?,
                    published_at: a.published_at,
                })
            })
            .collect()
    }
}

impl GuardianAnswer {
    pub(super) fn into_articles(self, source: &str) -> Vec<Article> {
        self.response
            .results
            .into_iter()
            .map(|r| Article {
                source: source.to_string(),
                title: r.web_title,
                url: r.web_url,
                published_at: r.web_publication_date,
            })
            .collect()
    }
}

impl HackerNewsItem {
    /// The story as an article; `None` for items without a link.
    pub(super) fn into_article(self, source: &str) -> Option<Article> {
        Some(Article {
            source: source.to_string(),
            title: self.title.unwrap_or_else(|| "(no title)".to_string()),
            url: self.url?,
            published_at: self.time.map(unix_to_rfc3339),
        })
    }
}

/// Hacker News's stories as articles. A story that failed is left out; the source
/// fails only when every story did (with the first story's error).
pub(super) fn stories(
    items: Vec<Result<HackerNewsItem, SourceError>>,
    source: &str,
) -> Result<Vec<Article>, SourceError> {
    if !items.is_empty() && items.iter().all(Result::is_err) {
        return Err(items
            .into_iter()
            .find_map(Result::err)
            .expect("every item failed"));
    }
    Ok(items
        .into_iter()
        .filter_map(Result::ok)
        .filter_map(|item| item.into_article(source))
        .collect())
}
