//! News sources on the embedded mock API: endpoints that answer with JSON shaped like
//! NewsAPI, The Guardian and Hacker News, after seeded, skewed delays.
//!
//! Each source lives under its own path prefix (`/newsapi/v2/top-headlines`), so a
//! profile can hold twenty sources of three shapes. Article URLs are unique per source
//! and story, except one story that every NewsAPI and Guardian source carries: the
//! store must keep it once.

use crate::server::fault::Fault;
use crate::server::latency::Latency;
use crate::server::profile::{Endpoint, Profile};

use super::{ApiKey, Shape, Source};

/// The story every NewsAPI and Guardian source reports: one row in the store.
pub const SHARED_STORY_URL: &str = "https://news.example/world/the-story-everyone-covers";

/// Articles per NewsAPI or Guardian answer, and ids in the top-stories list.
const ARTICLES_PER_ANSWER: usize = 10;
const TOP_STORIES: u64 = 30;
const FIRST_STORY_ID: u64 = 46_000_001;
/// Stories a Hacker News source on the mock fetches from that list (the tutorial's 10).
const STORIES_FETCHED: usize = 10;

/// One mock source: its shape, how slow it is, what it does wrong.
#[derive(Debug, Clone)]
pub struct MockSource {
    /// Its name and path prefix.
    pub name: String,
    /// The API it imitates.
    pub shape: Shape,
    /// The delay of its list (the top-stories list, for Hacker News).
    pub latency: Latency,
    /// The delay of each Hacker News story item.
    pub item_latency: Latency,
    /// Faults of its list endpoint (a source that is down, slow, failing).
    pub fault: Fault,
}

impl MockSource {
    /// A source with the given delays and no faults.
    pub fn new(name: &str, shape: Shape, latency: &str, item_latency: &str) -> MockSource {
        MockSource {
            name: name.to_string(),
            shape,
            latency: latency.parse().expect("a valid latency"),
            item_latency: item_latency.parse().expect("a valid latency"),
            fault: Fault::default(),
        }
    }

    /// The tutorial's three sources, each about half a second: NewsAPI, The Guardian,
    /// and Hacker News (a quick list, then ten story items).
    pub fn classic_three() -> Vec<MockSource> {
        vec![
            MockSource::new("newsapi", Shape::NewsApi, "lognormal:400ms..800ms", "0ms"),
            MockSource::new("guardian", Shape::Guardian, "lognormal:300ms..700ms", "0ms"),
            MockSource::new(
                "hackernews",
                Shape::HackerNews,
                "lognormal:150ms..400ms",
                "lognormal:80ms..300ms",
            ),
        ]
    }

    /// Twenty sources with skewed delays (most answer in a few hundred milliseconds,
    /// a few take over a second), the three shapes in turn.
    pub fn twenty() -> Vec<MockSource> {
        let shapes = [Shape::NewsApi, Shape::Guardian, Shape::HackerNews];
        (0..20)
            .map(|i| {
                let shape = shapes[i % 3];
                let name = format!("{}-{:02}", shape_name(shape), i + 1);
                MockSource::new(
                    &name,
                    shape,
                    "lognormal:300ms..1500ms",
                    "lognormal:100ms..600ms",
                )
            })
            .collect()
    }

    /// The same source with every delay multiplied by `factor`.
    pub fn scaled(mut self, factor: f64) -> MockSource {
        self.latency = self.latency.scaled(factor);
        self.item_latency = self.item_latency.scaled(factor);
        self
    }

    /// How a client reaches it on a mock API at `server_url`: with the placeholder
    /// key for the shapes that take one, never a real key.
    pub fn source_on(&self, server_url: &str) -> Source {
        Source {
            name: self.name.clone(),
            shape: self.shape,
            base_url: format!("{server_url}/{}", self.name),
            key: match self.shape {
                Shape::HackerNews => None,
                Shape::NewsApi | Shape::Guardian => Some(ApiKey::placeholder()),
            },
            per_second: None,
            stories: STORIES_FETCHED,
        }
    }

    /// The requests [`MockSource::source_on`]'s source makes when nothing fails: its
    /// list, and for Hacker News each of its stories.
    pub fn requests(&self) -> u64 {
        match self.shape {
            Shape::HackerNews => 1 + STORIES_FETCHED as u64,
            Shape::NewsApi | Shape::Guardian => 1,
        }
    }

    /// The endpoints that serve it.
    fn endpoints(&self) -> Vec<Endpoint> {
        let prefix = format!("/{}", self.name);
        let endpoint = |suffix: &str, path: String, body: String, latency: Latency| Endpoint {
            name: format!("{}{suffix}", self.name),
            path,
            body: Some(body),
            ..Endpoint::catch_all(latency)
        };
        match self.shape {
            Shape::NewsApi => vec![Endpoint {
                fault: self.fault.clone(),
                ..endpoint(
                    "",
                    format!("{prefix}/v2/top-headlines"),
                    newsapi_body(&self.name),
                    self.latency,
                )
            }],
            Shape::Guardian => vec![Endpoint {
                fault: self.fault.clone(),
                ..endpoint(
                    "",
                    format!("{prefix}/search"),
                    guardian_body(&self.name),
                    self.latency,
                )
            }],
            Shape::HackerNews => vec![
                Endpoint {
                    fault: self.fault.clone(),
                    ..endpoint(
                        "-top",
                        format!("{prefix}/v0/topstories.json"),
                        top_stories_body(),
                        self.latency,
                    )
                },
                endpoint(
                    "-item",
                    format!("{prefix}/v0/item/*"),
                    item_body(&self.name),
                    self.item_latency,
                ),
            ],
        }
    }
}

/// The mock API's profile for these sources.
pub fn profile(sources: &[MockSource]) -> Profile {
    Profile {
        endpoints: sources.iter().flat_map(MockSource::endpoints).collect(),
        limits: Default::default(),
        network: Default::default(),
        stall: None,
    }
}

/// For each endpoint of [`profile`], in order: which source it serves, and whether it
/// is a Hacker News story endpoint (`true`) or the source's list (`false`).
pub fn endpoint_roles(sources: &[MockSource]) -> Vec<(usize, bool)> {
    sources
        .iter()
        .enumerate()
        .flat_map(|(i, s)| match s.shape {
            Shape::HackerNews => vec![(i, false), (i, true)],
            Shape::NewsApi | Shape::Guardian => vec![(i, false)],
        })
        .collect()
}

fn shape_name(shape: Shape) -> &'static str {
    match shape {
        Shape::NewsApi => "newsapi",
        Shape::Guardian => "guardian",
        Shape::HackerNews => "hackernews",
    }
}

/// The article URL of story `i` of `source`; story 0 is the one everybody covers.
fn story_url(source: &str, i: usize) -> String {
    if i == 0 {
        SHARED_STORY_URL.to_string()
    } else {
        format!("https://news.example/{source}/story-{i}")
    }
}

fn published(i: usize) -> String {
    format!("2026-11-22T{:02}:{:02}:00Z", 8 - i % 8, (i * 7) % 60)
}

fn newsapi_body(source: &str) -> String {
    let articles: Vec<_> = (0..ARTICLES_PER_ANSWER)
        .map(|i| {
            serde_json::json!({
                "source": { "id": null, "name": source },
                "author": format!("Reporter {i}"),
                "title": format!("{source}: headline {i}"),
                "description": "A mock article served by fanout.",
                "url": story_url(source, i),
                "urlToImage": null,
                "publishedAt": published(i),
                "content": "The full text is not part of the mock.",
            })
        })
        .collect();
    serde_json::json!({ "status": "ok", "totalResults": articles.len(), "articles": articles })
        .to_string()
}

fn guardian_body(source: &str) -> String {
    let results: Vec<_> = (0..ARTICLES_PER_ANSWER)
        .map(|i| {
            serde_json::json!({
                "id": format!("world/2026/nov/22/{source}-{i}"),
                "type": "article",
                "sectionId": "world",
                "sectionName": "World news",
                "webPublicationDate": published(i),
                "webTitle": format!("{source}: report {i}"),
                "webUrl": story_url(source, i),
                "apiUrl": format!("https://content.example/{source}/{i}"),
                "isHosted": false,
                "pillarId": "pillar/news",
                "pillarName": "News",
            })
        })
        .collect();
    serde_json::json!({
        "response": {
            "status": "ok", "userTier": "developer", "total": results.len(),
            "startIndex": 1, "pageSize": results.len(), "currentPage": 1, "pages": 1,
            "orderBy": "newest", "results": results,
        }
    })
    .to_string()
}

fn top_stories_body() -> String {
    let ids: Vec<u64> = (FIRST_STORY_ID..FIRST_STORY_ID + TOP_STORIES).collect();
    serde_json::to_string(&ids).expect("ids serialise")
}

/// One item for every id: `{id}` is filled in by the server from the request path.
fn item_body(source: &str) -> String {
    format!(
        r#"{{"by":"mock","descendants":12,"id":{{id}},"kids":[],"score":120,"time":1795320000,"title":"{source}: story {{id}}","type":"story","url":"https://news.example/{source}/item/{{id}}"}}"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_profile_is_valid_and_routes_every_source() {
        let sources = MockSource::twenty();
        let profile = profile(&sources);
        profile.validate().unwrap();
        assert_eq!(profile.endpoints.len(), 20 + 6);
        let hn = profile
            .route("GET", "/hackernews-03/v0/item/46000001.json")
            .unwrap();
        assert_eq!(profile.endpoints[hn].name, "hackernews-03-item");
        let body = profile.endpoints[hn].fixed_body("/hackernews-03/v0/item/46000001.json");
        let item: serde_json::Value = serde_json::from_str(&body.unwrap()).unwrap();
        assert_eq!(item["id"], 46_000_001);
    }

    #[test]
    fn a_source_counts_the_requests_its_client_makes() {
        for mock in MockSource::twenty() {
            let source = mock.source_on("http://127.0.0.1:9");
            let stories = match mock.shape {
                Shape::HackerNews => source.stories as u64,
                Shape::NewsApi | Shape::Guardian => 0,
            };
            assert_eq!(mock.requests(), 1 + stories, "{}", mock.name);
        }
    }
}
