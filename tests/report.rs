//! The committed reference report: every chart `reports/README.md` links exists and is
//! a well-formed SVG document, so a reader on GitHub never meets a broken image.

use std::path::Path;

#[test]
fn every_chart_the_report_links_exists_and_parses() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("reports");
    let links = charts_linked_from(&dir);
    assert!(links.len() >= 10, "the report embeds its charts: {links:?}");
    check_charts(&dir, &links);
}

/// The sweep, threads-against-tasks and peers reports beside the claims report.
#[test]
fn every_chart_the_other_reports_link_exists_and_parses() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("reports");
    for (report, at_least) in [("sweep", 2), ("threads-vs-tasks", 2), ("peers", 3)] {
        let dir = root.join(report);
        let links = charts_linked_from(&dir);
        assert!(links.len() >= at_least, "reports/{report}: {links:?}");
        check_charts(&dir, &links);
    }
}

/// The `.svg` targets of the markdown links in `dir/README.md`.
fn charts_linked_from(dir: &Path) -> Vec<String> {
    let readme = std::fs::read_to_string(dir.join("README.md"))
        .unwrap_or_else(|e| panic!("{}/README.md: {e}", dir.display()));
    readme
        .split("](")
        .skip(1)
        .filter_map(|rest| rest.split(')').next())
        .filter(|target| target.ends_with(".svg"))
        .map(str::to_string)
        .collect()
}

fn check_charts(dir: &Path, links: &[String]) {
    for link in links {
        let path = dir.join(link);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{} is linked but unreadable: {e}", path.display()));
        let document = roxmltree::Document::parse(&text)
            .unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()));
        assert_eq!(document.root_element().tag_name().name(), "svg", "{link}");
    }
}

#[test]
fn the_report_has_a_row_and_a_section_for_every_claim() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/README.md"))
            .expect("reports/README.md exists");
    for claim in fanout::claims::catalogue::catalogue() {
        assert!(
            readme.contains(&format!("| [{}](#", claim.id)),
            "{} row",
            claim.id
        );
        assert!(
            readme.contains(&format!("## {}\n", claim.id)),
            "{} section",
            claim.id
        );
    }
}
