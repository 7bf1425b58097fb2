use super::*;
use crate::server::profile::Profile;

fn scenario(strategy: Strategy, n: u64) -> Scenario {
    Scenario::new(Profile::single("100ms".parse().unwrap()), n, strategy)
}

#[test]
fn each_strategy_is_exported_or_refused_with_a_reason() {
    for engine in [LoadEngine::Locust, LoadEngine::K6] {
        for strategy in Strategy::ALL {
            let mut s = scenario(strategy, 20);
            s.client.rate = 50.0;
            match plan(&s, engine, "http://127.0.0.1:8080") {
                Ok(plan) => {
                    assert!(refusal(strategy, engine).is_none());
                    let script = render(&plan);
                    assert!(script.contains("N = 20"), "{strategy:?} {engine:?}");
                    assert!(script.contains(strategy.name()));
                }
                Err(Error::NotExportable { why, .. }) => {
                    assert_eq!(Some(why.as_str()), refusal(strategy, engine));
                }
                Err(other) => panic!("{strategy:?} on {engine:?}: {other}"),
            }
        }
    }
}

#[test]
fn the_shapes_follow_the_strategies() {
    let url = "http://127.0.0.1:8080";
    let p = plan(
        &scenario(Strategy::AsyncConcurrent, 30),
        LoadEngine::K6,
        url,
    )
    .unwrap();
    assert_eq!(p.pace, Pace::Loops { users: 30 });
    let mut s = scenario(Strategy::AsyncSemaphore, 30);
    s.client.limit = 7;
    let p = plan(&s, LoadEngine::Locust, url).unwrap();
    assert_eq!(p.pace, Pace::Loops { users: 7 });
    let script = render(&p);
    assert!(script.contains("USERS = 7") && script.contains("wait_time = constant(0)"));
    let mut s = scenario(Strategy::AsyncRatelimited, 100);
    s.client.rate = 40.0;
    let p = plan(&s, LoadEngine::Locust, url).unwrap();
    // 40/s × 100 ms × 1.5 = 6, plus one.
    assert_eq!(
        p.pace,
        Pace::Paced {
            users: 7,
            rate: 40.0
        }
    );
    let p = plan(&s, LoadEngine::K6, url).unwrap();
    assert!(matches!(
        p.pace,
        Pace::Arrivals {
            rate: 40.0,
            ramp: None,
            ..
        }
    ));
    // 100 requests at 40/s: n per 2.5 s.
    assert!(render(&p).contains("rate: N, timeUnit: '2500000us', duration: '2875000us'"));
}

#[test]
fn http2_tls_and_a_locust_open_loop_are_refused() {
    let url = "http://127.0.0.1:8080";
    let mut s = scenario(Strategy::AsyncSemaphore, 10);
    s.client.http = crate::strategy::HttpVersion::Http2;
    assert!(
        plan(&s, LoadEngine::Locust, url)
            .unwrap_err()
            .to_string()
            .contains("HTTP/1.1 only")
    );
    let s = scenario(Strategy::AsyncArrivalRate, 10);
    let why = plan(&s, LoadEngine::Locust, url).unwrap_err().to_string();
    assert!(why.contains("open loop"), "{why}");
    assert!(plan(&s, LoadEngine::K6, url).is_ok());
}

#[test]
fn a_target_stays_out_of_the_script() {
    let mut s = scenario(Strategy::AsyncSemaphore, 10);
    s.target = Some("https://api.example.com/v1?api_key=SECRET123".to_string());
    s.client.pace = Some(5.0);
    for engine in [LoadEngine::Locust, LoadEngine::K6] {
        let script = render(&plan(&s, engine, "http://127.0.0.1:8080").unwrap());
        assert!(!script.contains("SECRET123"), "{script}");
        assert!(script.contains("FANOUT_TARGET"));
    }
}

#[test]
fn ramp_stages_integrate_to_n() {
    let ramp = Ramp {
        from: 0.0,
        to: 100.0,
        over: Duration::from_secs(10),
    };
    // The ramp alone holds 500 requests: 1,000 need 5 s more at 100/s.
    let stages = k6::ramp_stages(&ramp, 1000);
    assert_eq!(
        stages,
        vec![
            (100.0, Duration::from_secs(10)),
            (100.0, Duration::from_secs(5))
        ]
    );
    // 125 requests end the ramp early: 5·t² = 125 at t = 5 s, at 50/s.
    let stages = k6::ramp_stages(&ramp, 125);
    assert_eq!(stages.len(), 1);
    assert!((stages[0].0 - 50.0).abs() < 1e-9 && (stages[0].1.as_secs_f64() - 5.0).abs() < 1e-9);
}
