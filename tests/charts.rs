//! The chart layer: every chart is a well-formed SVG document whose marks can be counted
//! from its input, and odd input (empty, NaN, infinite, zero on a log axis) never panics.
//!
//! Counts rely on how plotters' SVG backend writes marks: one element per line, bars and
//! legend swatches as `<rect>`, lines as `<polyline>`, dots as `<circle>`. Every chart's
//! first `<rect>` is the white background.

use fanout::report::charts::{
    InFlightSeries, LatencyRow, RateSeries, ScalingPoint, ScalingSeries, SpeedupGroup, TimelineBar,
    TimelineRun, WaterfallGroup, WaterfallPhase, WaterfallRow, WaterfallSpan, in_flight,
    latency_percentiles, requests_per_window, scaling, speedup_bars, timeline, waterfall,
};

/// Colours the charts promise (Okabe-Ito), as the SVG writes them.
const BLUE: &str = "#0072B2";
const ORANGE: &str = "#E69F00";
const VERMILLION: &str = "#D55E00";
const GREY: &str = "#999999";

/// The elements `<tag ...>` of `svg`, one per line as the backend writes them.
fn elements<'a>(svg: &'a str, tag: &str) -> Vec<&'a str> {
    let open = format!("<{tag} ");
    svg.lines().filter(|l| l.starts_with(&open)).collect()
}

/// The value of `name="..."` in one element.
fn attr<'a>(element: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let start = element.find(&key)? + key.len();
    let len = element[start..].find('"')?;
    Some(&element[start..start + len])
}

/// The elements `<tag ...>` filled with `colour`.
fn filled<'a>(svg: &'a str, tag: &str, colour: &str) -> Vec<&'a str> {
    elements(svg, tag)
        .into_iter()
        .filter(|e| attr(e, "fill") == Some(colour))
        .collect()
}

/// The `<polyline>`s stroked with `colour`.
fn stroked<'a>(svg: &'a str, colour: &str) -> Vec<&'a str> {
    elements(svg, "polyline")
        .into_iter()
        .filter(|e| attr(e, "stroke") == Some(colour))
        .collect()
}

/// The text of every `<text>` element.
fn all_text(svg: &str) -> Vec<String> {
    let lines: Vec<&str> = svg.lines().collect();
    lines
        .windows(2)
        .filter(|w| w[0].starts_with("<text "))
        .map(|w| w[1].to_string())
        .collect()
}

/// A whole SVG document, 800x400, every text element closed, and no font loaded or
/// embedded: text is left to the viewer's sans-serif.
fn assert_svg(svg: &str) {
    assert!(
        svg.starts_with("<svg "),
        "does not start with <svg: {}",
        &svg[..svg.len().min(80)]
    );
    assert!(
        svg.trim_end().ends_with("</svg>"),
        "does not end with </svg>"
    );
    assert_eq!(svg.matches("<svg").count(), 1);
    assert!(svg.contains(r#"width="800" height="400""#));
    assert_eq!(
        svg.matches("<text ").count(),
        svg.matches("</text>").count()
    );
    for t in elements(svg, "text") {
        assert_eq!(attr(t, "font-family"), Some("sans-serif"), "{t}");
    }
    assert!(!svg.contains("@font-face") && !svg.contains("<image"));
    assert_eq!(
        attr(elements(svg, "rect")[0], "fill"),
        Some("#FFFFFF"),
        "white background"
    );
}

fn bar(lane: usize, start_ms: f64, end_ms: f64, outcome: &str) -> TimelineBar {
    TimelineBar {
        lane,
        start_ms,
        end_ms,
        outcome: outcome.to_string(),
    }
}

#[test]
fn timeline_draws_every_bar_and_a_legend_of_the_outcomes_that_occur() {
    let sequential: Vec<TimelineBar> = (0..10)
        .map(|i| {
            bar(
                i,
                i as f64 * 50.0,
                (i + 1) as f64 * 50.0,
                if i == 3 { "http_5xx" } else { "ok" },
            )
        })
        .collect();
    let concurrent: Vec<TimelineBar> = (0..10)
        .map(|i| {
            bar(
                i,
                1.0,
                51.0 + i as f64,
                if i == 7 { "mystery" } else { "ok" },
            )
        })
        .collect();
    let runs = vec![
        TimelineRun {
            label: "sequential".into(),
            bars: sequential,
        },
        TimelineRun {
            label: "concurrent".into(),
            bars: concurrent,
        },
    ];
    let svg = timeline("10 requests", &runs).unwrap();
    assert_svg(&svg);

    // Background, 3 legend swatches (ok, http_5xx, mystery), per run a label band and a
    // lane panel, and 20 bars.
    assert_eq!(elements(&svg, "rect").len(), 1 + 3 + 2 * 2 + 20);
    assert_eq!(
        filled(&svg, "rect", BLUE).len(),
        18 + 1,
        "ok bars and their swatch"
    );
    assert_eq!(
        filled(&svg, "rect", VERMILLION).len(),
        1 + 1,
        "http_5xx bar and swatch"
    );
    assert_eq!(
        filled(&svg, "rect", GREY).len(),
        1 + 1,
        "unknown outcomes are grey"
    );
    let texts = all_text(&svg);
    for expected in [
        "10 requests",
        "sequential",
        "concurrent",
        "ok",
        "http_5xx",
        "mystery",
    ] {
        assert!(
            texts.iter().any(|t| t == expected),
            "no text {expected:?} in {texts:?}"
        );
    }
    assert!(
        !texts.iter().any(|t| t == "timeout"),
        "outcomes that do not occur stay out"
    );
    assert!(texts.iter().any(|t| t.contains("(ms)")), "time axis in ms");

    // The first run is on top: its bars start higher than the second run's.
    let top = |colour: &str, nth: usize| -> i32 {
        let y = attr(filled(&svg, "rect", colour)[nth], "y").unwrap();
        y.parse().unwrap()
    };
    let first_ok_of_sequential = top(BLUE, 1); // [0] is the legend swatch
    let last_ok = top(BLUE, 18);
    assert!(first_ok_of_sequential < last_ok);
}

#[test]
fn timeline_with_many_lanes_draws_each_bar_at_least_one_pixel_high() {
    let bars: Vec<TimelineBar> = (0..1000)
        .map(|i| bar(i, i as f64, i as f64 + 40.0, "ok"))
        .collect();
    let svg = timeline(
        "1000 requests",
        &[TimelineRun {
            label: "async".into(),
            bars,
        }],
    )
    .unwrap();
    assert_svg(&svg);
    let ok = filled(&svg, "rect", BLUE);
    assert_eq!(ok.len(), 1000 + 1);
    for rect in &ok {
        let h: i32 = attr(rect, "height").unwrap().parse().unwrap();
        let w: i32 = attr(rect, "width").unwrap().parse().unwrap();
        assert!(h >= 1 && w >= 1, "{rect}");
    }
}

#[test]
fn timeline_skips_bars_without_finite_times_and_survives_odd_lanes() {
    let bars = vec![
        bar(0, f64::NAN, 10.0, "timeout"),
        bar(1, 0.0, f64::INFINITY, "timeout"),
        bar(2, 30.0, 20.0, "ok"), // ends before it starts: a sliver
        bar(usize::MAX, 0.0, 5.0, "ok"),
    ];
    let svg = timeline(
        "odd",
        &[TimelineRun {
            label: "odd".into(),
            bars,
        }],
    )
    .unwrap();
    assert_svg(&svg);
    assert_eq!(elements(&svg, "rect").len(), 1 + 1 + 2 + 2);
    assert!(!all_text(&svg).iter().any(|t| t == "timeout"));
}

#[test]
fn speedup_bars_print_each_value_and_leave_out_missing_document_figures() {
    let groups = vec![
        SpeedupGroup {
            label: "n=10".into(),
            document: Some(9.5),
            model: 9.1,
            measured: 6.7,
        },
        SpeedupGroup {
            label: "n=100".into(),
            document: None,
            model: 45.0,
            measured: 38.24,
        },
        SpeedupGroup {
            label: "n=1000".into(),
            document: Some(120.0),
            model: 98.0,
            measured: 0.93,
        },
    ];
    let svg = speedup_bars("Speedup", &groups).unwrap();
    assert_svg(&svg);
    // Background, 3 swatches, 3 + 2 + 3 bars.
    assert_eq!(elements(&svg, "rect").len(), 1 + 3 + 8);
    assert_eq!(filled(&svg, "rect", BLUE).len(), 3 + 1, "measured");
    assert_eq!(filled(&svg, "rect", ORANGE).len(), 3 + 1, "model");
    let texts = all_text(&svg);
    for expected in [
        "9.5x", "9.1x", "6.7x", "45.0x", "38.2x", "120x", "98.0x", "0.93x", "n=10", "n=1000",
    ] {
        assert!(
            texts.iter().any(|t| t == expected),
            "no text {expected:?} in {texts:?}"
        );
    }
    assert!(texts.iter().any(|t| t == "speedup (x)"));
    for legend in ["document", "model", "measured"] {
        assert!(
            texts.iter().any(|t| t == legend),
            "no legend entry {legend}"
        );
    }

    let without_document = vec![SpeedupGroup {
        label: "n=10".into(),
        document: None,
        model: 9.0,
        measured: f64::NAN,
    }];
    let svg = speedup_bars("No document", &without_document).unwrap();
    assert_svg(&svg);
    assert_eq!(elements(&svg, "rect").len(), 1 + 2 + 1, "NaN bar skipped");
    assert!(!all_text(&svg).iter().any(|t| t == "document"));
}

fn point(n: u64, measured_ms: f64, model_ms: f64, baseline_ms: f64) -> ScalingPoint {
    ScalingPoint {
        n,
        measured_ms,
        model_ms,
        baseline_ms,
    }
}

#[test]
fn scaling_draws_a_dot_per_point_in_both_panels_with_reference_lines() {
    let series = vec![
        ScalingSeries {
            strategy: "async".into(),
            points: vec![
                point(1000, 120.0, 110.0, 50_000.0),
                point(10, 60.0, 55.0, 500.0),
                point(100, 70.0, 65.0, 5_000.0),
            ],
        },
        ScalingSeries {
            strategy: "threads 8".into(),
            points: vec![
                point(10, 100.0, 100.0, 500.0),
                point(100, 700.0, 650.0, 5_000.0),
            ],
        },
    ];
    let svg = scaling("Scaling", &series).unwrap();
    assert_svg(&svg);
    // Legend: one dot per strategy and one for "measured"; then each measured point once
    // in each panel.
    assert_eq!(elements(&svg, "circle").len(), (2 + 1) + 5 + 5);
    let blue_dots = elements(&svg, "circle")
        .into_iter()
        .filter(|c| attr(c, "fill") == Some(BLUE))
        .count();
    assert_eq!(blue_dots, 1 + 3 + 3);
    // Solid lines: the legend's, the measured one in each panel, and the model's dashes.
    let blue_lines = stroked(&svg, BLUE);
    assert!(
        blue_lines.len() > 1 + 2,
        "model drawn dashed: {}",
        blue_lines.len()
    );
    let texts = all_text(&svg);
    for expected in ["async", "threads 8", "measured", "model", "10x", "100x"] {
        assert!(
            texts.iter().any(|t| t == expected),
            "no text {expected:?} in {texts:?}"
        );
    }
    assert!(texts.iter().any(|t| t.contains("(ms")), "wall time in ms");
}

#[test]
fn scaling_skips_zero_nan_and_infinite_values_on_its_log_axes() {
    let series = vec![ScalingSeries {
        strategy: "odd".into(),
        points: vec![
            point(0, 10.0, 10.0, 10.0),               // n = 0: nowhere on a log axis
            point(10, 0.0, 5.0, 100.0),               // measured 0: no dot, no speedup
            point(100, f64::NAN, f64::INFINITY, 1.0), // nothing
            point(1000, 50.0, -3.0, 0.0),             // a wall-time dot, no speedup
            point(10_000, 80.0, 70.0, 8_000.0),       // everything
        ],
    }];
    let svg = scaling("Odd", &series).unwrap();
    assert_svg(&svg);
    assert_eq!(elements(&svg, "circle").len(), 2 + 2 + 1);
    assert!(
        all_text(&svg).iter().any(|t| t == "100x"),
        "axis reaches 100x"
    );

    let nothing_usable = vec![ScalingSeries {
        strategy: "none".into(),
        points: vec![point(0, f64::NAN, 0.0, -1.0)],
    }];
    let svg = scaling("Nothing", &nothing_usable).unwrap();
    assert_svg(&svg);
    assert!(all_text(&svg).iter().any(|t| t == "no data"));
}

#[test]
fn latency_percentiles_draw_four_bars_per_strategy() {
    let rows = vec![
        LatencyRow {
            strategy: "sequential".into(),
            p50: 50.0,
            p90: 80.0,
            p99: 120.0,
            max: 180.0,
        },
        LatencyRow {
            strategy: "async".into(),
            p50: 55.0,
            p90: 95.0,
            p99: 400.0,
            max: 900.0,
        },
        LatencyRow {
            strategy: "broken".into(),
            p50: f64::NAN,
            p90: -1.0,
            p99: 1.0,
            max: 2.0,
        },
    ];
    let svg = latency_percentiles("Latency", &rows).unwrap();
    assert_svg(&svg);
    assert_eq!(elements(&svg, "rect").len(), 1 + 4 + 4 + 4 + 2);
    assert_eq!(
        filled(&svg, "rect", VERMILLION).len(),
        3 + 1,
        "max bars and swatch"
    );
    let texts = all_text(&svg);
    for expected in [
        "p50",
        "p90",
        "p99",
        "max",
        "sequential",
        "async",
        "latency (ms)",
    ] {
        assert!(
            texts.iter().any(|t| t == expected),
            "no text {expected:?} in {texts:?}"
        );
    }
}

/// The number of points in a `<polyline>`.
fn points(polyline: &str) -> usize {
    attr(polyline, "points").unwrap().split_whitespace().count()
}

#[test]
fn in_flight_draws_one_step_line_per_series_and_the_limit() {
    let series = vec![
        InFlightSeries {
            label: "unbounded".into(),
            steps: vec![(20.0, 2), (0.0, 0), (10.0, 5)],
        },
        InFlightSeries {
            label: "limit 3".into(),
            steps: vec![(0.0, 3), (30.0, 0)],
        },
    ];
    let svg = in_flight("In flight", &series, Some(3)).unwrap();
    assert_svg(&svg);
    // Each series: a legend line (2 points) and its step line. Steps sorted by time, held
    // flat to t = 30: (0,0) (10,0) (10,5) (20,5) (20,2) (30,2).
    let mut blue: Vec<usize> = stroked(&svg, BLUE).into_iter().map(points).collect();
    blue.sort_unstable();
    assert_eq!(blue, vec![2, 6]);
    let mut orange: Vec<usize> = stroked(&svg, ORANGE).into_iter().map(points).collect();
    orange.sort_unstable();
    assert_eq!(orange, vec![2, 3]);
    let texts = all_text(&svg);
    for expected in ["unbounded", "limit 3", "requests in flight"] {
        assert!(
            texts.iter().any(|t| t == expected),
            "no text {expected:?} in {texts:?}"
        );
    }
    // Background and the white backing of the "limit 3" label.
    assert_eq!(elements(&svg, "rect").len(), 2);

    let svg = in_flight("No limit", &series, None).unwrap();
    assert_eq!(elements(&svg, "rect").len(), 1);
}

#[test]
fn requests_per_window_draws_a_bar_per_busy_window_and_the_promised_rate() {
    let series = vec![
        RateSeries {
            label: "token bucket".into(),
            windows: vec![(0.0, 20), (1000.0, 19), (2000.0, 0)],
        },
        RateSeries {
            label: "sleep".into(),
            windows: vec![(0.0, 25), (1000.0, 18), (2000.0, 21), (f64::NAN, 4)],
        },
    ];
    let svg = requests_per_window("Rate", &series, Some(20.0)).unwrap();
    assert_svg(&svg);
    // Background, 2 swatches, 2 + 3 bars (empty and NaN windows draw nothing), the backing
    // of the "promised" label.
    assert_eq!(elements(&svg, "rect").len(), 1 + 2 + 5 + 1);
    assert_eq!(filled(&svg, "rect", BLUE).len(), 2 + 1);
    assert_eq!(filled(&svg, "rect", ORANGE).len(), 3 + 1);
    let texts = all_text(&svg);
    for expected in [
        "promised 20/s",
        "token bucket",
        "sleep",
        "time since the run started (s)",
    ] {
        assert!(
            texts.iter().any(|t| t == expected),
            "no text {expected:?} in {texts:?}"
        );
    }

    let svg = requests_per_window("No limit", &series, Some(f64::NAN)).unwrap();
    assert!(!all_text(&svg).iter().any(|t| t.starts_with("promised")));
}

#[test]
fn empty_input_gives_a_chart_that_says_no_data() {
    let charts = [
        timeline("empty", &[]).unwrap(),
        timeline(
            "no bars",
            &[TimelineRun {
                label: "none".into(),
                bars: vec![],
            }],
        )
        .unwrap(),
        speedup_bars("empty", &[]).unwrap(),
        scaling("empty", &[]).unwrap(),
        scaling(
            "no points",
            &[ScalingSeries {
                strategy: "s".into(),
                points: vec![],
            }],
        )
        .unwrap(),
        latency_percentiles("empty", &[]).unwrap(),
        in_flight("empty", &[], None).unwrap(),
        in_flight(
            "no steps",
            &[InFlightSeries {
                label: "s".into(),
                steps: vec![],
            }],
            Some(0),
        )
        .unwrap(),
        requests_per_window("empty", &[], None).unwrap(),
        requests_per_window(
            "no windows",
            &[RateSeries {
                label: "s".into(),
                windows: vec![],
            }],
            Some(0.0),
        )
        .unwrap(),
    ];
    for (i, svg) in charts.iter().enumerate() {
        assert_svg(svg);
        let texts = all_text(svg);
        assert!(
            texts
                .iter()
                .any(|t| t.starts_with("empty") || t.starts_with("no ")),
            "chart {i}"
        );
        if i != 1 {
            assert!(texts.iter().any(|t| t == "no data"), "chart {i}: {texts:?}");
        }
    }
}

#[test]
fn titles_and_labels_are_escaped() {
    let runs = [TimelineRun {
        label: "a < b & \"c\"".into(),
        bars: vec![bar(0, 0.0, 1.0, "ok")],
    }];
    let svg = timeline("<script>&", &runs).unwrap();
    assert_svg(&svg);
    assert!(!svg.contains("<script>"));
    assert!(svg.contains("&lt;script&gt;&amp;"));
    assert!(svg.contains("a &lt; b &amp; &quot;c&quot;"));
}

#[test]
fn extreme_values_neither_panic_nor_hang() {
    let odd = [
        f64::MAX,
        f64::MIN,
        f64::MIN_POSITIVE,
        1e300,
        -0.0,
        f64::NEG_INFINITY,
    ];
    for &a in &odd {
        let bars = vec![
            bar(0, 0.0, a, "ok"),
            bar(1, a, 1.0, "ok"),
            bar(2, 1.0, 2.0, "ok"),
        ];
        assert_svg(
            &timeline(
                "t",
                &[TimelineRun {
                    label: "r".into(),
                    bars,
                }],
            )
            .unwrap(),
        );
        let group = SpeedupGroup {
            label: "g".into(),
            document: Some(a),
            model: a,
            measured: 2.0,
        };
        assert_svg(&speedup_bars("s", &[group]).unwrap());
        let points = vec![
            point(1, a, a, 1.0),
            point(u64::MAX, 1.0, a, a),
            point(10, 1.0, 1.0, a),
        ];
        let series = ScalingSeries {
            strategy: "s".into(),
            points,
        };
        assert_svg(&scaling("s", &[series]).unwrap());
        let row = LatencyRow {
            strategy: "s".into(),
            p50: a,
            p90: 1.0,
            p99: a,
            max: 2.0,
        };
        assert_svg(&latency_percentiles("l", &[row]).unwrap());
        let steps = vec![(a, 1), (0.0, u64::MAX), (1.0, 0)];
        let series = InFlightSeries {
            label: "s".into(),
            steps,
        };
        assert_svg(&in_flight("i", &[series], Some(u64::MAX)).unwrap());
        let windows = vec![(a, 1), (0.0, u64::MAX)];
        let series = RateSeries {
            label: "s".into(),
            windows,
        };
        assert_svg(&requests_per_window("r", &[series], Some(a)).unwrap());
    }
}

#[test]
fn a_crowded_legend_keeps_to_four_rows_and_counts_the_rest() {
    let series: Vec<InFlightSeries> = (0..60)
        .map(|k| InFlightSeries {
            label: format!("series {k}"),
            steps: vec![(0.0, k)],
        })
        .collect();
    let svg = in_flight("Crowded", &series, None).unwrap();
    assert_svg(&svg);
    let texts = all_text(&svg);
    let shown = texts.iter().filter(|t| t.starts_with("series ")).count();
    let more: Vec<usize> = texts
        .iter()
        .filter_map(|t| t.strip_prefix('+')?.strip_suffix(" more")?.parse().ok())
        .collect();
    assert_eq!(more.len(), 1, "one note: {texts:?}");
    assert!(shown > 0 && more[0] > 0);
    assert_eq!(shown + more[0], 60);
    let rows: std::collections::BTreeSet<&str> = elements(&svg, "text")
        .into_iter()
        .zip(&texts)
        .filter(|(_, t)| t.starts_with("series ") || t.ends_with(" more"))
        .filter_map(|(e, _)| attr(e, "y"))
        .collect();
    assert_eq!(rows.len(), 4);
}

/// A waterfall row from `(phase, start, end)` triples.
fn row(seq: u64, spans: &[(WaterfallPhase, f64, f64)]) -> WaterfallRow {
    WaterfallRow {
        seq,
        spans: spans
            .iter()
            .map(|&(phase, start_ms, end_ms)| WaterfallSpan {
                phase,
                start_ms,
                end_ms,
            })
            .collect(),
    }
}

#[test]
fn a_waterfall_draws_a_bar_per_phase_of_every_request_and_says_when_it_is_cut() {
    use WaterfallPhase::{Connect, Queued, Receive, Send, Server, Tls, Unmatched};
    // Two fresh connections (queued, TCP, TLS first), then requests reusing them, then
    // one the server never saw.
    let mut rows = vec![
        row(
            0,
            &[(Queued, 0.0, 1.0), (Connect, 1.0, 61.0), (Tls, 61.0, 101.0)],
        ),
        row(1, &[(Connect, 0.0, 60.0), (Tls, 60.0, 100.0)]),
    ];
    for r in &mut rows {
        let end = r.spans.last().unwrap().end_ms;
        r.spans.push(WaterfallSpan {
            phase: Send,
            start_ms: end,
            end_ms: end + 20.0,
        });
    }
    for seq in 2..6 {
        let t = 200.0 + seq as f64;
        rows.push(row(
            seq,
            &[
                (Send, t, t + 20.0),
                (Server, t + 20.0, t + 70.0),
                (Receive, t + 70.0, t + 90.0),
            ],
        ));
    }
    rows.push(row(6, &[(Unmatched, 0.0, f64::NAN)]));
    rows.push(row(7, &[(Unmatched, 5.0, 300.0)]));
    let group = WaterfallGroup {
        label: "async-concurrent".to_string(),
        rows,
        total: 120,
        over_network: false,
    };
    let svg = waterfall("Waterfall", &[group]).unwrap();
    let document = roxmltree::Document::parse(&svg).expect("the waterfall is valid XML");
    assert_eq!(document.root_element().tag_name().name(), "svg");
    // Each phase's bars, plus its one legend swatch.
    let bars = |colour: &str| filled(&svg, "rect", colour).len() - 1;
    assert_eq!(bars(GREY), 1, "queued");
    assert_eq!(bars(ORANGE), 2, "TCP connect");
    assert_eq!(bars("#CC79A7"), 2, "TLS");
    assert_eq!(bars("#56B4E9"), 6, "send lag");
    assert_eq!(bars("#009E73"), 4, "server");
    assert_eq!(bars(BLUE), 4, "receive");
    assert_eq!(
        bars(VERMILLION),
        1,
        "no server record: the NaN span is skipped"
    );
    let texts = all_text(&svg);
    for name in ["TCP connect", "TLS", "send lag", "server", "receive"] {
        assert!(texts.iter().any(|t| t == name), "{name} in the legend");
    }
    assert!(
        texts
            .iter()
            .any(|t| t.contains("async-concurrent: first 8 of 120 requests")),
        "the cut is named: {texts:?}"
    );
}

#[test]
fn an_empty_waterfall_says_so() {
    let svg = waterfall("Nothing", &[]).unwrap();
    assert_svg(&svg);
    assert!(all_text(&svg).iter().any(|t| t == "no data"));
}
